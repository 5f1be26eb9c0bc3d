"""Zero-shot prompting helpers: what inference sees, and the per-task latents and estimates
against one-task-at-a-time calls."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fbjax.eval.zero_shot import infer_latents, inference_data, off_policy_estimates
from fbjax.fb import reward_inference
from fbjax.zol import ZOLConfig, density_ratio, fb_value_estimate, ratio_estimate
from tests.helpers import continuous_agent

ROWS, TASKS = 40, 3


def _arrays():
    rows = np.arange(ROWS, dtype=np.float32)
    obs = np.stack([rows, -rows, rows / 2], 1)
    return {"obs": obs, "next_obs": obs + 0.5, "start": (np.arange(ROWS) % 10 == 0) * 1.0}


def _rewards():
    return np.arange(ROWS)[:, None] * 10.0 + np.arange(TASKS)[None]  # r[i, t] = 10 i + t


def test_inference_data_keeps_rows_and_rewards_together():
    data = inference_data(_arrays(), _rewards(), num_samples=15, num_starts=3, seed=0)
    rows = np.asarray(data.next_obs[:, 0] - 0.5).astype(int)
    assert len(set(rows.tolist())) == 15  # sampled without replacement
    assert data.rewards.shape == (TASKS, 15)
    np.testing.assert_array_equal(data.rewards, (rows[None] * 10 + np.arange(TASKS)[:, None]))
    starts = np.asarray(data.start_obs[:, 0]).astype(int)
    assert all(s % 10 == 0 for s in starts)  # episode starts only
    assert len(set(starts.tolist())) == 3
    with pytest.raises(ValueError, match="no episode starts"):
        inference_data({**_arrays(), "start": np.zeros(ROWS)}, _rewards(), 5, 2, 0)


@pytest.fixture(scope="module")
def prompted():
    agent = continuous_agent()
    params = agent.init(jax.random.PRNGKey(0)).params
    data = inference_data(_arrays(), np.random.default_rng(1).normal(size=(ROWS, TASKS)), 30,
                          4, seed=1)
    return agent, params, data


def test_latents_per_task_equal_single_prompt_calls(prompted):
    agent, params, data = prompted
    zs = infer_latents(agent, params, data, ZOLConfig(steps=3), rwr_iterations=2)
    assert set(zs) == {"fb", "fb_zol", "fb_rwr"}
    for t in range(TASKS):
        z = reward_inference(agent.networks, params["backward"], data.next_obs, data.rewards[t])
        np.testing.assert_allclose(zs["fb"][t], z, rtol=1e-5, atol=1e-6)
    for method in ("fb_zol", "fb_rwr"):
        norms = np.linalg.norm(np.asarray(zs[method]), axis=1)
        np.testing.assert_allclose(norms, np.sqrt(agent.config.z_dim), rtol=1e-5)


def test_off_policy_estimates_equal_one_task_at_a_time(prompted):
    agent, params, data = prompted
    zs = infer_latents(agent, params, data, ZOLConfig(steps=2), rwr_iterations=1)["fb"]
    out = off_policy_estimates(agent, params, data, zs)
    gamma = agent.config.discount
    for t in range(TASKS):
        w = density_ratio(agent.networks, params, data.start_obs, data.next_obs, zs[t], gamma,
                          transform="linear")
        np.testing.assert_allclose(out["ratio"][t], ratio_estimate(w, data.rewards[t], gamma),
                                   rtol=1e-5, atol=1e-6)
        value = fb_value_estimate(agent.networks, params, data.start_obs, data.next_obs,
                                  data.rewards[t], zs[t])
        np.testing.assert_allclose(out["fb_value"][t], value, rtol=1e-5, atol=1e-6)
        # The ratio estimate is the mean of w r over the sample, divided by 1 - gamma.
        manual = float(jnp.mean(w * data.rewards[t])) / (1 - gamma)
        np.testing.assert_allclose(out["ratio"][t], manual, rtol=1e-5, atol=1e-6)
