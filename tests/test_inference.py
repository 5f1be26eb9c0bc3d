"""Zero-shot task inference against the numpy formula, batched and single."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fbjax.fb import act, goal_inference, reward_inference
from tests.helpers import ACTION_DIM, OBS_DIM, TINY, continuous_agent, discrete_agent


@pytest.fixture(scope="module")
def setup():
    agent = continuous_agent()
    params = agent.init(jax.random.PRNGKey(0)).params
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(30, OBS_DIM)).astype(np.float32)
    rewards = rng.normal(size=(5, 30)).astype(np.float32)
    weights = rng.random((5, 30)).astype(np.float32)
    return agent, params, obs, rewards, weights


def _numpy_z(b, rewards, weights):
    z = (weights * rewards) @ b / rewards.shape[-1]
    return np.sqrt(b.shape[1]) * z / np.linalg.norm(z, axis=-1, keepdims=True)


def test_reward_inference_matches_numpy_formula(setup):
    agent, params, obs, rewards, weights = setup
    b = np.asarray(agent.networks.backward(params.backward, jnp.asarray(obs)))
    got = reward_inference(agent.networks, params.backward, jnp.asarray(obs),
                           jnp.asarray(rewards), jnp.asarray(weights))
    np.testing.assert_allclose(got, _numpy_z(b, rewards, weights), rtol=1e-5, atol=1e-6)
    unweighted = reward_inference(agent.networks, params.backward, jnp.asarray(obs),
                                  jnp.asarray(rewards))
    np.testing.assert_allclose(unweighted, _numpy_z(b, rewards, np.ones_like(rewards)),
                               rtol=1e-5, atol=1e-6)


def test_batched_prompts_equal_single_calls(setup):
    agent, params, obs, rewards, weights = setup
    batched = jax.jit(lambda o, r, w: reward_inference(agent.networks, params.backward, o, r,
                                                       w))(obs, rewards, weights)
    for p in range(rewards.shape[0]):
        single = reward_inference(agent.networks, params.backward, jnp.asarray(obs),
                                  jnp.asarray(rewards[p]), jnp.asarray(weights[p]))
        assert single.shape == (TINY.z_dim,)
        np.testing.assert_allclose(batched[p], single, rtol=1e-5, atol=1e-6)


def test_per_prompt_states(setup):
    agent, params, obs, rewards, _ = setup
    obs_per_prompt = np.stack([np.roll(obs, p, axis=0) for p in range(rewards.shape[0])])
    got = reward_inference(agent.networks, params.backward, jnp.asarray(obs_per_prompt),
                           jnp.asarray(rewards))
    for p in range(rewards.shape[0]):
        b = np.asarray(agent.networks.backward(params.backward, jnp.asarray(obs_per_prompt[p])))
        np.testing.assert_allclose(got[p], _numpy_z(b, rewards[p:p + 1], 1.0)[0], rtol=1e-5,
                                   atol=1e-6)


def test_reward_inference_rejects_mismatched_shapes(setup):
    agent, params, obs, rewards, _ = setup
    with pytest.raises(ValueError, match="30 states for 29 rewards"):
        reward_inference(agent.networks, params.backward, jnp.asarray(obs),
                         jnp.asarray(rewards[:, :29]))
    with pytest.raises(ValueError, match="weights"):
        reward_inference(agent.networks, params.backward, jnp.asarray(obs),
                         jnp.asarray(rewards), jnp.ones((5, 3)))
    wide = jnp.zeros((30, OBS_DIM + 1))  # flax would fail deep inside B on it
    with pytest.raises(ValueError, match=f"next_obs has shape \\(30, {OBS_DIM + 1}\\); the "
                                         f"model expects a last axis of {OBS_DIM}"):
        reward_inference(agent.networks, params.backward, wide, jnp.asarray(rewards[0]))


def test_act_names_the_argument_of_the_wrong_shape(setup):
    agent, params, obs, _, _ = setup
    z = jnp.zeros((30, TINY.z_dim))
    with pytest.raises(ValueError, match="act: obs has shape"):
        act(agent.networks, params, jnp.zeros((30, OBS_DIM + 1)), z)
    with pytest.raises(ValueError, match="act: z has shape"):
        act(agent.networks, params, jnp.asarray(obs), z[:, 1:])
    with pytest.raises(ValueError, match="one z per observation"):
        act(agent.networks, params, jnp.asarray(obs), z[0])


def test_goal_inference_is_projected_backward_embedding(setup):
    agent, params, obs, _, _ = setup
    z = goal_inference(agent.networks, params.backward, jnp.asarray(obs[:4]))
    b = np.asarray(agent.networks.backward(params.backward, jnp.asarray(obs[:4])))
    np.testing.assert_allclose(z, b, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), np.sqrt(TINY.z_dim), rtol=1e-5)


def test_act_continuous_and_discrete(setup):
    agent, params, obs, _, _ = setup
    z = goal_inference(agent.networks, params.backward, jnp.asarray(obs[:4]))
    mean = act(agent.networks, params, jnp.asarray(obs[:4]), z)
    assert mean.shape == (4, ACTION_DIM)
    np.testing.assert_allclose(mean, agent.networks.actor_mean(params.actor, obs[:4], z))
    noisy = act(agent.networks, params, jnp.asarray(obs[:4]), z, mean=False,
                key=jax.random.PRNGKey(0))
    assert np.all(np.abs(noisy) < 1) and not np.allclose(noisy, mean)
    with pytest.raises(ValueError, match="needs a key"):
        act(agent.networks, params, jnp.asarray(obs[:4]), z, mean=False)

    d_agent = discrete_agent()
    d_params = d_agent.init(jax.random.PRNGKey(1)).params
    greedy = np.asarray(act(d_agent.networks, d_params, jnp.asarray(obs[:4]), z))
    f = np.asarray(d_agent.networks.forward(d_params.forward, obs[:4], None, z))
    q = np.einsum("knad,nd->kna", f, np.asarray(z)).min(axis=0)
    np.testing.assert_array_equal(greedy, q.argmax(-1))


def test_reward_inference_over_every_row_equals_the_one_shot_formula(setup):
    """Chunked, padded accumulation (a chunk size that does not divide the rows) gives the same
    z_r as one call on all rows; the padding's zero rewards add nothing."""
    from fbjax.fb import reward_inference_all

    agent, params, obs, rewards, _ = setup
    z_all = reward_inference_all(agent.networks, params.backward, obs, rewards.T, chunk=7)
    z_one = reward_inference(agent.networks, params.backward, jnp.asarray(obs),
                             jnp.asarray(rewards))
    np.testing.assert_allclose(z_all, z_one, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"expected next_obs \(N, obs_dim\) and rewards"):
        reward_inference_all(agent.networks, params.backward, obs, rewards)


def test_goal_space_b_reads_only_the_goal_coordinates():
    """With goal_indices, B(s) = B(g(s)): observations that share their goal coordinates embed
    the same, goal prompts accept goal points or whole observations, and bad indices or widths
    are refused with the numbers that are wrong."""
    import dataclasses

    from fbjax.fb import FBConfig
    from fbjax.fb.networks import FBNetworks

    nets = FBNetworks(dataclasses.replace(TINY, goal_indices=(0, 2)), OBS_DIM, ACTION_DIM)
    assert nets.goal_dim == 2
    params = nets.init(jax.random.PRNGKey(0))
    assert params.backward["Dense_0"]["kernel"].shape[0] == 2
    obs = np.random.default_rng(0).normal(size=(6, OBS_DIM)).astype(np.float32)
    other = obs.copy()
    other[:, 1] += 5.0  # a coordinate outside the goal space
    b = nets.backward(params.backward, jnp.asarray(obs))
    np.testing.assert_array_equal(b, nets.backward(params.backward, jnp.asarray(other)))
    np.testing.assert_array_equal(
        goal_inference(nets, params.backward, jnp.asarray(obs[:, [0, 2]])), b)
    with pytest.raises(ValueError, match="goals of width 4"):
        goal_inference(nets, params.backward, jnp.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"\[9\] out of range for observations of"):
        FBNetworks(dataclasses.replace(TINY, goal_indices=(0, 9)), OBS_DIM, ACTION_DIM)
    with pytest.raises(ValueError, match="goal_indices=\\(1, 1\\)"):
        FBConfig(goal_indices=[1, 1])
    assert FBConfig(goal_indices=[0, 1]).goal_indices == (0, 1)  # JSON lists become tuples


def test_projection_of_zero_has_a_zero_gradient():
    """A goal space can embed a merged class at 0: proj must give 0 and a finite gradient."""
    from fbjax.nets import project_z

    np.testing.assert_array_equal(project_z(jnp.zeros(4)), jnp.zeros(4))
    grad = jax.grad(lambda x: project_z(x).sum())(jnp.zeros(4))
    assert np.all(np.isfinite(grad))
    x = jnp.array([3.0, 4.0])
    np.testing.assert_allclose(project_z(x), np.sqrt(2) * np.array([0.6, 0.8]), rtol=1e-6)
