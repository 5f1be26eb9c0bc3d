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
    b = np.asarray(agent.networks.backward(params["backward"], jnp.asarray(obs)))
    got = reward_inference(agent.networks, params["backward"], jnp.asarray(obs),
                           jnp.asarray(rewards), jnp.asarray(weights))
    np.testing.assert_allclose(got, _numpy_z(b, rewards, weights), rtol=1e-5, atol=1e-6)
    unweighted = reward_inference(agent.networks, params["backward"], jnp.asarray(obs),
                                  jnp.asarray(rewards))
    np.testing.assert_allclose(unweighted, _numpy_z(b, rewards, np.ones_like(rewards)),
                               rtol=1e-5, atol=1e-6)


def test_batched_prompts_equal_single_calls(setup):
    agent, params, obs, rewards, weights = setup
    batched = jax.jit(lambda o, r, w: reward_inference(agent.networks, params["backward"], o, r,
                                                       w))(obs, rewards, weights)
    for p in range(rewards.shape[0]):
        single = reward_inference(agent.networks, params["backward"], jnp.asarray(obs),
                                  jnp.asarray(rewards[p]), jnp.asarray(weights[p]))
        assert single.shape == (TINY.z_dim,)
        np.testing.assert_allclose(batched[p], single, rtol=1e-5, atol=1e-6)


def test_per_prompt_states(setup):
    agent, params, obs, rewards, _ = setup
    obs_per_prompt = np.stack([np.roll(obs, p, axis=0) for p in range(rewards.shape[0])])
    got = reward_inference(agent.networks, params["backward"], jnp.asarray(obs_per_prompt),
                           jnp.asarray(rewards))
    for p in range(rewards.shape[0]):
        b = np.asarray(agent.networks.backward(params["backward"], jnp.asarray(obs_per_prompt[p])))
        np.testing.assert_allclose(got[p], _numpy_z(b, rewards[p:p + 1], 1.0)[0], rtol=1e-5,
                                   atol=1e-6)


def test_reward_inference_rejects_mismatched_shapes(setup):
    agent, params, obs, rewards, _ = setup
    with pytest.raises(ValueError, match="30 states for 29 rewards"):
        reward_inference(agent.networks, params["backward"], jnp.asarray(obs),
                         jnp.asarray(rewards[:, :29]))
    with pytest.raises(ValueError, match="weights"):
        reward_inference(agent.networks, params["backward"], jnp.asarray(obs),
                         jnp.asarray(rewards), jnp.ones((5, 3)))


def test_goal_inference_is_projected_backward_embedding(setup):
    agent, params, obs, _, _ = setup
    z = goal_inference(agent.networks, params["backward"], jnp.asarray(obs[:4]))
    b = np.asarray(agent.networks.backward(params["backward"], jnp.asarray(obs[:4])))
    np.testing.assert_allclose(z, b, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), np.sqrt(TINY.z_dim), rtol=1e-5)


def test_act_continuous_and_discrete(setup):
    agent, params, obs, _, _ = setup
    z = goal_inference(agent.networks, params["backward"], jnp.asarray(obs[:4]))
    mean = act(agent.networks, params, jnp.asarray(obs[:4]), z)
    assert mean.shape == (4, ACTION_DIM)
    np.testing.assert_allclose(mean, agent.networks.actor_mean(params["actor"], obs[:4], z))
    noisy = act(agent.networks, params, jnp.asarray(obs[:4]), z, mean=False,
                key=jax.random.PRNGKey(0))
    assert np.all(np.abs(noisy) < 1) and not np.allclose(noisy, mean)
    with pytest.raises(ValueError, match="needs a key"):
        act(agent.networks, params, jnp.asarray(obs[:4]), z, mean=False)

    d_agent = discrete_agent()
    d_params = d_agent.init(jax.random.PRNGKey(1)).params
    greedy = np.asarray(act(d_agent.networks, d_params, jnp.asarray(obs[:4]), z))
    f = np.asarray(d_agent.networks.forward(d_params["forward"], obs[:4], None, z))
    q = np.einsum("knad,nd->kna", f, np.asarray(z)).min(axis=0)
    np.testing.assert_array_equal(greedy, q.argmax(-1))
