"""The FB learner's losses against per-sample references, and the update's mechanics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fbjax.fb.networks import FBParams
from tests.helpers import (
    NUM_ACTIONS,
    TINY,
    continuous_agent,
    discrete_agent,
    random_batch,
    random_z,
)

N = TINY.batch_size
RTOL, ATOL = 1e-4, 1e-5  # float32 sums of network outputs


def _one(x, i):
    return x[i : i + 1]


def _f_single(agent, params, obs, action, z, i):
    """F_k(s_i, a_i, z_i) for every member k, applied to one sample at a time: (K, d)."""
    if agent.discrete:
        f = agent.networks.forward(params, _one(obs, i), None, _one(z, i))
        return np.asarray(f[:, 0, int(action[i])])
    f = agent.networks.forward(params, _one(obs, i), _one(action, i), _one(z, i))
    return np.asarray(f[:, 0])


def _reference_fb_loss(agent, params, batch, z, target):
    k = agent.config.ensemble_size
    b = [np.asarray(agent.networks.backward(params.backward, _one(batch.next_obs, j))[0])
         for j in range(N)]
    f = [_f_single(agent, params.forward, batch.obs, batch.action, z, i) for i in range(N)]
    fb = 0.0
    for kk in range(k):
        off = sum((float(f[i][kk] @ b[j])
                   - agent.config.discount * (1 - float(batch.terminal[i])) * float(target[i, j]))
                  ** 2 for i in range(N) for j in range(N) if i != j) / (N * (N - 1))
        fb += 0.5 * off - sum(float(f[i][kk] @ b[i]) for i in range(N)) / N
    c = [[float(b[i] @ b[j]) for j in range(N)] for i in range(N)]
    ortho = (0.5 * sum(c[i][j] ** 2 for i in range(N) for j in range(N) if i != j) / (N * (N - 1))
             - sum(c[i][i] for i in range(N)) / N)
    return fb + agent.config.ortho_coef * ortho


@pytest.mark.parametrize("make", [continuous_agent, discrete_agent], ids=["continuous", "discrete"])
def test_fb_loss_matches_per_sample_reference(make):
    agent = make()
    params = agent.init(jax.random.PRNGKey(0)).params
    batch, z = random_batch(N, agent.discrete, seed=1), random_z(N, seed=2)
    target = jnp.asarray(np.random.default_rng(3).normal(size=(N, N)), jnp.float32)
    fb_params = FBParams(forward=params.forward, backward=params.backward)
    loss, metrics = agent.fb_loss(fb_params, batch, z, target)
    expected = _reference_fb_loss(agent, params, batch, z, np.asarray(target))
    np.testing.assert_allclose(loss, expected, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(metrics["fb_loss"] + metrics["ortho_loss"], expected,
                               rtol=RTOL, atol=ATOL)


def _target_reference(agent, state, batch, z, action_probs):
    """T[i, j] = mean_k sum_a p_i(a) F_bar_k(s'_i, a, z_i) . B_bar(s'_j) (lambda_F = 0)."""
    tp = state.target_params
    t = np.zeros((N, N))
    for i in range(N):
        f = agent.networks.forward(tp.forward, _one(batch.next_obs, i), None, _one(z, i))
        f = np.einsum("ka,kad->d", np.tile(action_probs[i], (agent.config.ensemble_size, 1)),
                      np.asarray(f[:, 0])) / agent.config.ensemble_size
        for j in range(N):
            b = np.asarray(agent.networks.backward(tp.backward, _one(batch.next_obs, j))[0])
            t[i, j] = f @ b
    return t


def test_policy_evaluation_target_is_the_exact_expectation_over_the_policy():
    probs = np.random.default_rng(4).dirichlet(np.ones(NUM_ACTIONS), size=N).astype(np.float32)
    agent = discrete_agent(target_policy=lambda obs: jnp.asarray(probs))
    state = agent.init(jax.random.PRNGKey(0))
    batch, z = random_batch(N, True, seed=5), random_z(N, seed=6)
    got = agent.target_successor(state.params, state.target_params, batch.next_obs, z, None)
    np.testing.assert_allclose(got, _target_reference(agent, state, batch, z, probs),
                               rtol=RTOL, atol=ATOL)


def test_discrete_control_target_uses_the_greedy_action_of_the_target_forward_map():
    agent = discrete_agent()
    state = agent.init(jax.random.PRNGKey(0))
    batch, z = random_batch(N, True, seed=7), random_z(N, seed=8)
    greedy = np.zeros((N, NUM_ACTIONS))
    for i in range(N):
        f = np.asarray(agent.networks.forward(state.target_params.forward,
                                              _one(batch.next_obs, i), None, _one(z, i))[:, 0])
        q = f @ np.asarray(z[i])  # (K, A)
        greedy[i, np.argmax(q.min(axis=0))] = 1.0  # lambda_pi = 0.5 with K = 2: the min
    got = agent.target_successor(state.params, state.target_params, batch.next_obs, z, None)
    np.testing.assert_allclose(got, _target_reference(agent, state, batch, z, greedy),
                               rtol=RTOL, atol=ATOL)


def test_actor_loss_matches_per_sample_reference():
    agent = continuous_agent()
    params = agent.init(jax.random.PRNGKey(0)).params
    batch, z, key = random_batch(N, False, seed=9), random_z(N, seed=10), jax.random.PRNGKey(11)
    loss, _ = agent.actor_loss(params.actor, params.forward, batch.obs, z, key)
    actions = np.asarray(agent.networks.sample_action(params.actor, batch.obs, z, key))
    q = []
    for i in range(N):
        f = agent.networks.forward(params.forward, _one(batch.obs, i),
                                   jnp.asarray(actions[i : i + 1]), _one(z, i))
        q.append(min(float(np.asarray(f[k, 0]) @ np.asarray(z[i])) for k in range(2)))
    np.testing.assert_allclose(loss, -np.mean(q), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("make", [continuous_agent, discrete_agent], ids=["continuous", "discrete"])
def test_update_moves_parameters_and_polyak_averages_targets(make):
    agent = make()
    state = agent.init(jax.random.PRNGKey(0))
    batch = random_batch(N, agent.discrete)
    new, metrics = jax.jit(agent.update)(state, batch, jax.random.PRNGKey(1))
    assert int(new.step) == 1
    expected_keys = {"fb_loss", "fb_diag", "fb_offdiag", "ortho_loss", "ortho_diag",
                     "ortho_offdiag", "q_mean", "b_norm", "f_norm", "grad_norm_forward",
                     "grad_norm_backward"}
    if not agent.discrete:
        expected_keys |= {"actor_loss", "actor_q", "grad_norm_actor"}
    assert set(metrics) == expected_keys
    assert all(np.isfinite(float(v)) for v in metrics.values())
    names = ("forward", "backward") + (() if agent.discrete else ("actor",))
    assert (new.params.actor is None) == agent.discrete
    for name in names:
        before, after = getattr(state.params, name), getattr(new.params, name)
        changed = [not np.allclose(a, b) for a, b in zip(
            jax.tree.leaves(before), jax.tree.leaves(after), strict=True)]
        assert any(changed), f"{name} parameters did not move"
    tau = agent.config.tau
    for name in ("forward", "backward"):
        expected = jax.tree.map(lambda p, t: tau * p + (1 - tau) * t, getattr(new.params, name),
                                getattr(state.target_params, name))
        for a, b in zip(jax.tree.leaves(getattr(new.target_params, name)),
                        jax.tree.leaves(expected), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_policy_evaluation_mode_has_no_actor_step():
    agent = continuous_agent(target_policy=lambda obs, key: jnp.zeros((obs.shape[0], 2)))
    state = agent.init(jax.random.PRNGKey(0))
    new, metrics = jax.jit(agent.update)(state, random_batch(N, False), jax.random.PRNGKey(1))
    assert "actor_loss" not in metrics
    for a, b in zip(jax.tree.leaves(state.params.actor), jax.tree.leaves(new.params.actor),
                    strict=True):
        np.testing.assert_array_equal(a, b)
