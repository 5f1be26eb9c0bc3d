"""Shapes and invariants of the FB networks."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fbjax.configs import from_dict, to_dict
from fbjax.fb import FBAgent, FBConfig
from fbjax.nets import project_z
from tests.helpers import ACTION_DIM, NUM_ACTIONS, OBS_DIM, TINY, continuous_agent, discrete_agent


def test_project_z_radius_and_direction():
    x = jnp.asarray([[3.0, 4.0], [0.0, 0.0]])
    z = np.asarray(project_z(x))
    np.testing.assert_allclose(z[0], np.sqrt(2) * np.array([0.6, 0.8]), rtol=1e-6)
    assert np.all(np.isfinite(z[1]))


def test_shapes_and_backward_on_sphere():
    agent = continuous_agent()
    params = agent.networks.init(jax.random.PRNGKey(0))
    obs, z = jnp.ones((5, OBS_DIM)), jnp.ones((5, TINY.z_dim))
    b = agent.networks.backward(params.backward, obs)
    assert b.shape == (5, TINY.z_dim)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), np.sqrt(TINY.z_dim), rtol=1e-5)
    f = agent.networks.forward(params.forward, obs, jnp.zeros((5, ACTION_DIM)), z)
    assert f.shape == (TINY.ensemble_size, 5, TINY.z_dim)
    assert not np.allclose(f[0], f[1]), "ensemble members must have their own parameters"
    assert agent.networks.actor_mean(params.actor, obs, z).shape == (5, ACTION_DIM)


def test_discrete_forward_has_one_embedding_per_action_and_no_actor():
    agent = discrete_agent()
    params = agent.networks.init(jax.random.PRNGKey(0))
    f = agent.networks.forward(params.forward, jnp.ones((5, OBS_DIM)), None,
                               jnp.ones((5, TINY.z_dim)))
    assert f.shape == (TINY.ensemble_size, 5, NUM_ACTIONS, TINY.z_dim)
    assert params.actor is None


def test_biases_start_at_zero_and_kernels_orthogonal():
    params = continuous_agent().networks.init(jax.random.PRNGKey(0))
    leaves = jax.tree_util.tree_leaves_with_path(params.backward)
    biases = [v for path, v in leaves if "bias" in jax.tree_util.keystr(path)
              and "LayerNorm" not in jax.tree_util.keystr(path)]
    assert biases and all(np.all(np.asarray(b) == 0) for b in biases)
    kernel = np.asarray(params.backward["Dense_0"]["kernel"])  # (obs_dim, hidden): wide
    np.testing.assert_allclose(kernel @ kernel.T, np.eye(OBS_DIM), atol=1e-5)


def test_sampled_actions_stay_inside_bounds_with_straight_through_gradient():
    wide = dataclasses.replace(TINY, actor_noise=3.0, noise_clip=2.0)  # many samples get clipped
    agent = FBAgent(wide, OBS_DIM, ACTION_DIM)
    params = agent.networks.init(jax.random.PRNGKey(0))
    obs, z = jnp.ones((64, OBS_DIM)) * 5.0, jnp.ones((64, TINY.z_dim))
    key = jax.random.PRNGKey(1)
    a = agent.networks.sample_action(params.actor, obs, z, key)
    assert np.all(np.abs(a) < 1.0)
    assert np.mean(np.abs(np.asarray(a)) > 0.999) > 0.2
    mu = agent.networks.actor_mean(params.actor, obs, z)
    assert np.all(np.abs(np.asarray(a - mu)) <= wide.noise_clip + 1e-6)

    # d(sum a)/d(params) equals d(sum mu)/d(params) although some samples are clipped.
    def total(fn):
        return jax.grad(lambda p: fn(p).sum())(params.actor)

    g_sample = total(lambda p: agent.networks.sample_action(p, obs, z, key))
    g_mean = total(lambda p: agent.networks.actor_mean(p, obs, z))
    for x, y in zip(jax.tree.leaves(g_sample), jax.tree.leaves(g_mean), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def test_config_rejects_bad_values_naming_them():
    with pytest.raises(ValueError, match="discount=1.5"):
        FBConfig(discount=1.5)
    with pytest.raises(ValueError, match=r"fb: unknown field\(s\) \['zdim'\]"):
        from_dict(FBConfig, {"zdim": 3}, "fb")
    assert from_dict(FBConfig, to_dict(TINY)) == TINY


# bfloat16 keeps 8 significant bits: each rounding has relative error <= u = 2^-8, RMS u/sqrt(3).
# A Dense layer rounds its input and its weights, so its output carries a relative RMS error of
# about sqrt(2/3) u; the deepest path here (F: tower Linear, tower Linear, body Linear, output
# Linear) chains four, which adds up to about sqrt(4 * 2/3) u = 1.6 u if the errors are
# independent. The tolerance is 4 u (1.6%): 2.5x that estimate, far below what a wrong network
# (O(1) differences) would give.
BF16_U = 2.0 ** -8


def _relative_rms(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.sqrt(np.mean((a - b) ** 2) / np.mean(b ** 2)))


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_bfloat16_matmuls_agree_with_float32_and_keep_float32_outputs():
    config = dataclasses.replace(TINY, forward_hidden=64, backward_hidden=64, actor_hidden=64)
    f32 = FBAgent(config, OBS_DIM, ACTION_DIM)
    bf16 = FBAgent(dataclasses.replace(config, compute_dtype="bfloat16"), OBS_DIM, ACTION_DIM)
    params = f32.networks.init(jax.random.PRNGKey(0))  # the same float32 parameters for both
    assert jax.tree.structure(params) == jax.tree.structure(bf16.networks.init(
        jax.random.PRNGKey(0)))
    rng = np.random.default_rng(0)
    obs = jnp.asarray(rng.normal(size=(256, OBS_DIM)), jnp.float32)
    action = jnp.asarray(rng.uniform(-1, 1, (256, ACTION_DIM)), jnp.float32)
    z = project_z(jnp.asarray(rng.normal(size=(256, config.z_dim)), jnp.float32))
    pairs = {
        "backward": (f32.networks.backward(params.backward, obs),
                     bf16.networks.backward(params.backward, obs)),
        "forward": (f32.networks.forward(params.forward, obs, action, z),
                    bf16.networks.forward(params.forward, obs, action, z)),
        "actor": (f32.networks.actor_mean(params.actor, obs, z),
                  bf16.networks.actor_mean(params.actor, obs, z)),
    }
    for name, (reference, low) in pairs.items():
        assert low.dtype == jnp.float32, name
        error = _relative_rms(low, reference)
        assert 0 < error <= 4 * BF16_U, (name, error)
    with pytest.raises(ValueError, match="compute_dtype='float16'"):
        dataclasses.replace(config, compute_dtype="float16")
