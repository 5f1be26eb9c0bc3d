"""The evaluator against a plain Python rollout loop; paired rollouts; occupancy histograms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fbjax.envs as envs
from fbjax.eval.evaluator import (
    episode_key,
    fb_policy,
    make_evaluator,
    random_policy,
    summarize,
)
from fbjax.fb import FBAgent, FBConfig

CONFIG = FBConfig(z_dim=8, backward_hidden=16, forward_hidden=16, actor_hidden=16,
                  batch_size=8)
EPISODES, LENGTH, DISCOUNT = 3, 40, 0.9


def test_returns_equal_a_python_rollout_loop():
    domain = envs.make("point_mass")
    agent = FBAgent(CONFIG, domain.obs_dim, domain.action_dim)
    params = agent.init(jax.random.PRNGKey(0)).params
    zs = jax.random.normal(jax.random.PRNGKey(1), (2, CONFIG.z_dim)) * 2.0
    task_ids = jnp.array([4, 0])  # loop, reach_top_left
    evaluate = make_evaluator(domain, fb_policy(agent.networks), EPISODES, LENGTH, DISCOUNT)
    key = jax.random.PRNGKey(7)
    out = jax.tree.map(np.asarray, evaluate(params, zs, task_ids, key))
    assert out["return"].shape == (2, EPISODES)

    step = jax.jit(domain.step)
    actor = jax.jit(agent.networks.actor_mean)
    for p in range(2):
        for e in range(EPISODES):
            state = domain.reset(jax.random.split(episode_key(key, int(task_ids[p]), e))[0])
            total = discounted = 0.0
            for t in range(LENGTH):
                action = actor(params["actor"], state.obs[None], zs[p][None])[0]
                state = step(state, action)
                reward = float(domain.task_rewards(state.data, action)[int(task_ids[p])])
                total += reward
                discounted += DISCOUNT ** t * reward
            np.testing.assert_allclose(out["return"][p, e], total, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(out["discounted"][p, e], discounted, rtol=1e-4,
                                       atol=1e-5)
    # The loop prompt earns something, so the comparison is not between zeros.
    assert out["return"][0].max() > 1e-3


def test_random_policy_and_summary():
    domain = envs.make("point_mass")
    evaluate = make_evaluator(domain, random_policy(domain.action_dim), 4, 10)
    out = evaluate(None, jnp.zeros(2), jnp.array([0, 1]), jax.random.PRNGKey(0))
    assert out["return"].shape == (2, 4) and bool(jnp.all(out["return"] >= 0))
    s = summarize(np.array([1.0, 2.0, 3.0, 4.0]))
    assert s["mean"] == 2.5
    assert s["ci95"] == pytest.approx(1.96 * np.std([1, 2, 3, 4], ddof=1) / 2)
    with pytest.raises(ValueError, match="num_episodes must be >= 1"):
        make_evaluator(domain, random_policy(2), 0)


def test_methods_with_the_same_z_on_a_task_get_identical_episodes():
    """Paired rollouts: start states follow (task, episode), never the prompt's position, so the
    same z at two positions (as two "methods" of one task) earns the same per-episode returns,
    while a different task's episodes start elsewhere."""
    domain = envs.make("point_mass")
    agent = FBAgent(CONFIG, domain.obs_dim, domain.action_dim)
    params = agent.init(jax.random.PRNGKey(0)).params
    z = jax.random.normal(jax.random.PRNGKey(1), (CONFIG.z_dim,)) * 2.0
    other = jax.random.normal(jax.random.PRNGKey(2), (CONFIG.z_dim,)) * 2.0
    zs = jnp.stack([z, other, z, z])
    task_ids = jnp.array([4, 4, 4, 0])  # "fb" and "zol" on loop at positions 0 and 2
    evaluate = make_evaluator(domain, fb_policy(agent.networks), EPISODES, LENGTH, DISCOUNT)
    out = jax.tree.map(np.asarray, evaluate(params, zs, task_ids, jax.random.PRNGKey(3)))
    np.testing.assert_array_equal(out["return"][0], out["return"][2])
    np.testing.assert_array_equal(out["task_discounted"][0], out["task_discounted"][2])
    assert out["return"][0].max() > 1e-3  # not a comparison of zeros
    assert not np.array_equal(out["task_discounted"][0], out["task_discounted"][1])
    # Task 0's episodes start from other states: the same z earns other loop returns there.
    assert not np.array_equal(out["task_returns"][3, :, 4], out["return"][0])
    # Every task's return comes from the same rollout: the own-task column is "return".
    np.testing.assert_array_equal(out["task_returns"][np.arange(4), :, task_ids],
                                  out["return"])


def test_occupancy_is_a_distribution_over_cells():
    domain = envs.make("point_mass")
    evaluate = make_evaluator(domain, random_policy(domain.action_dim), 2, 20, DISCOUNT,
                              cell_fn=lambda obs: (obs[0] > 0).astype(jnp.int32), num_cells=2)
    out = evaluate(None, jnp.zeros(3), jnp.array([0, 0, 1]), jax.random.PRNGKey(0))
    np.testing.assert_allclose(np.asarray(out["occupancy"]).sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(out["occupancy"][0], out["occupancy"][1])
