"""The evaluator against a plain Python rollout loop, and the zero-shot helpers' shapes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fbjax.envs as envs
from fbjax.eval.evaluator import fb_policy, make_evaluator, random_policy, summarize
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
    for p, prompt_key in enumerate(jax.random.split(key, 2)):
        reset_keys = jax.random.split(jax.random.split(prompt_key)[0], EPISODES)
        for e in range(EPISODES):
            state = domain.reset(reset_keys[e])
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
