"""A MuJoCo Playground environment as an fbjax domain (`envs.from_mjx_env`): fbjax steps it as
Playground does, and rewards of observations become its tasks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from mujoco_playground import dm_control_suite  # the [dmc] extra, in [test]

import fbjax.envs as envs


def cartpole():
    return dm_control_suite.load("CartpoleBalance", config_overrides={"impl": "jax"})


def upright(next_obs, action):
    """1 with the pole straight up (qpos[1] = 0), 0 hanging down."""
    del action
    return (jnp.cos(next_obs[1]) + 1.0) / 2.0


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_the_adapter_steps_the_envs_physics_as_the_env_does():
    """From the same reset, 50 control steps of random actions in [-1, 1] reach the same qpos
    and qvel through Playground's step and through fbjax's (float32: a few ulps per step)."""
    env = cartpole()
    domain = envs.from_mjx_env("cartpole_test", env, {"upright": upright})
    assert domain.task_names == ("upright",) and domain.episode_length == 1000
    assert domain.obs_dim == env.mj_model.nq + env.mj_model.nv
    key = jax.random.PRNGKey(3)
    ours, theirs = domain.reset(key), env.reset(key)
    np.testing.assert_array_equal(ours.data.qpos, theirs.data.qpos)
    np.testing.assert_array_equal(ours.data.qvel, theirs.data.qvel)
    actions = jax.random.uniform(jax.random.PRNGKey(4), (50, domain.action_dim), minval=-1.0,
                                 maxval=1.0)
    step_ours, step_theirs = jax.jit(domain.step), jax.jit(env.step)
    for action in actions:
        ours, theirs = step_ours(ours, action), step_theirs(theirs, action)
    np.testing.assert_allclose(ours.data.qpos, theirs.data.qpos, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.data.qvel, theirs.data.qvel, rtol=1e-5, atol=1e-5)
    reward = domain.task_rewards(ours.data, actions[-1])
    np.testing.assert_allclose(reward, [upright(ours.obs, None)], rtol=1e-6)


def test_the_adapter_refuses_what_is_not_an_env():
    with pytest.raises(TypeError, match="lacks \\['mj_model', 'n_substeps', 'reset'\\]"):
        envs.from_mjx_env("x", object(), {"upright": upright})
    with pytest.raises(ValueError, match="reward 'vector' returns shape \\(4,\\)"):
        envs.from_mjx_env("x", cartpole(), {"vector": lambda next_obs, action: next_obs})
