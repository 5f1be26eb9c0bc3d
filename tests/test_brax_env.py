"""Domains and tasks as brax Envs: the same dynamics and rewards as fbjax's own, through brax's
training wrappers, and brax's PPO trains on one."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fbjax.envs as envs

pytest.importorskip("brax")


def test_every_domain_and_task_is_a_brax_env():
    from brax.envs.base import Env

    for name in envs.domains():
        domain = envs.make(name)
        for task in domain.task_names:
            env = envs.brax_env(name, task)
            assert isinstance(env, Env)
            assert (env.observation_size, env.action_size) == (domain.obs_dim, domain.action_dim)
    with pytest.raises(KeyError, match="has no task 'fly'"):
        envs.brax_env("point_mass", "fly")


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_wrapped_rollout_matches_the_domain_and_cuts_episodes():
    from brax.envs.wrappers.training import wrap

    domain, task, length = envs.make("point_mass"), "loop", 4
    env = wrap(envs.brax_env("point_mass", task), episode_length=length)
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    state = jax.jit(env.reset)(keys)
    step = jax.jit(env.step)
    reference = jax.vmap(domain.reset)(keys)
    task_id = domain.task_names.index(task)
    for t in range(length):
        action = jnp.full((2, domain.action_dim), 0.3 * (t + 1))
        state = step(state, action)
        reference = jax.vmap(domain.step)(reference, action)
        if t < length - 1:  # the last step auto-resets the state (its reward is kept)
            np.testing.assert_allclose(state.obs, reference.obs, rtol=1e-5, atol=1e-6)
        expected = jax.vmap(lambda d, a: domain.task_rewards(d, a)[task_id])(reference.data,
                                                                             action)
        np.testing.assert_allclose(state.reward, expected, rtol=1e-5, atol=1e-6)
        assert np.all(np.asarray(state.done) == (t == length - 1))


@pytest.mark.slow  # trains brax PPO
def test_brax_ppo_trains_on_a_task():
    from brax.training.agents.ppo import train as ppo

    from fbjax.envs.brax_adapter import enable_brax_trainers

    enable_brax_trainers()
    reported = []
    make_policy, params, _ = ppo.train(
        envs.brax_env("point_mass", "reach_top_left"), num_timesteps=800, episode_length=50,
        num_envs=8, batch_size=8, num_minibatches=2, unroll_length=5, num_updates_per_batch=1,
        num_evals=2, num_eval_envs=4, seed=0,
        progress_fn=lambda step, metrics: reported.append((step, metrics)))
    assert [step for step, _ in reported] == [0, 800]
    assert all(np.isfinite(float(m["eval/episode_reward"])) for _, m in reported)
    policy = make_policy(params, deterministic=True)
    action, _ = policy(jnp.zeros((3, 4)), jax.random.PRNGKey(0))
    assert action.shape == (3, 2) and np.all(np.abs(np.asarray(action)) <= 1.0)
