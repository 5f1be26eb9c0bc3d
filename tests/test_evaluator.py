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


@pytest.mark.slow  # over 15 s here (docs/testing.md)
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

    # Each piece compiled on its own (op by op, MJX's reset alone took seconds).
    step, reset = jax.jit(domain.step), jax.jit(domain.reset)
    task_rewards = jax.jit(domain.task_rewards)
    actor = jax.jit(agent.networks.actor_mean)
    for p in range(2):
        for e in range(EPISODES):
            state = reset(jax.random.split(episode_key(key, int(task_ids[p]), e))[0])
            total = discounted = 0.0
            for t in range(LENGTH):
                action = actor(params.actor, state.obs[None], zs[p][None])[0]
                state = step(state, action)
                reward = float(task_rewards(state.data, action)[int(task_ids[p])])
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


@pytest.mark.slow  # over 15 s here (docs/testing.md)
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


def loop_of_observations(next_obs, action):
    """point_mass's `loop` task restated on observations (qpos, qvel) instead of physics data:
    the mass's xy is its qpos (slide joints from the origin) and its velocity its qvel."""
    from fbjax.envs.common import at_least
    from fbjax.envs.point_mass import LOOP_RADIUS, LOOP_SPEED, LOOP_WIDTH
    from fbjax.envs.rewards import tolerance

    del action
    xy, vel = next_obs[:2], next_obs[2:4]
    radius = jnp.linalg.norm(xy)
    on_ring = tolerance(radius - LOOP_RADIUS, bounds=(-LOOP_WIDTH, LOOP_WIDTH), margin=LOOP_WIDTH)
    tangential = (xy[0] * vel[1] - xy[1] * vel[0]) / jnp.maximum(radius, 1e-6)
    return on_ring * at_least(tangential, LOOP_SPEED, LOOP_SPEED, 0.0)


def circler(shared, per_prompt, obs, key):
    """Pushes the mass anticlockwise around the centre and toward the loop's ring."""
    del shared, per_prompt, key
    xy = obs[:, :2]
    radius = jnp.linalg.norm(xy, axis=1, keepdims=True) + 1e-6
    around = jnp.stack([-xy[:, 1], xy[:, 0]], axis=1) / radius
    return jnp.clip(around + 20.0 * (0.15 - radius) * xy / radius - 0.5 * obs[:, 2:4], -1, 1)


def test_a_users_reward_is_scored_as_the_library_task_it_restates():
    """`envs.with_tasks` adds a reward of observations as a task: relabelling and the evaluator
    give it the library `loop` task's values (the same quantity, read from the observation
    instead of the physics data; float32 rounding apart)."""
    from fbjax.data.relabel import relabel

    base = envs.make("point_mass")
    domain = envs.with_tasks(base, {"my_loop": loop_of_observations})
    assert domain.task_names == base.task_names + ("my_loop",)
    assert domain.data_of == "point_mass" and domain.name == "point_mass"
    angle = jnp.linspace(0, 2 * jnp.pi, 64)
    ring = jnp.stack([0.15 * jnp.cos(angle), 0.15 * jnp.sin(angle)], 1)
    physics = jnp.concatenate([ring * (1 + 0.1 * jnp.sin(5 * angle))[:, None],
                               0.1 * jnp.stack([-ring[:, 1], ring[:, 0]], 1) / 0.15], 1)
    rewards = np.asarray(relabel(domain, physics, jnp.zeros((64, 2)), ["loop", "my_loop"]))
    assert rewards[:, 0].min() > 0.05  # near the ring at the loop's speed: rewarded
    np.testing.assert_allclose(rewards[:, 1], rewards[:, 0], rtol=1e-5, atol=1e-6)

    evaluate = make_evaluator(domain, circler, EPISODES, 200, DISCOUNT)
    out = evaluate(None, jnp.zeros(1), jnp.array([domain.task_names.index("my_loop")]),
                   jax.random.PRNGKey(3))
    returns = np.asarray(out["task_returns"][0])  # (episodes, tasks), the same rollouts
    assert returns[:, 4].min() > 10.0, returns[:, 4]  # the circler earns the loop's reward
    np.testing.assert_allclose(returns[:, -1], returns[:, 4], rtol=1e-4)
    np.testing.assert_array_equal(np.asarray(out["return"][0]), returns[:, -1])
    with pytest.raises(ValueError, match="already in 'point_mass'"):
        envs.with_tasks(base, {"loop": loop_of_observations})
    with pytest.raises(ValueError, match="'batch' returns shape \\(4,\\)"):
        envs.with_tasks(base, {"batch": lambda next_obs, action: next_obs})
