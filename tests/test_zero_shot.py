"""Zero-shot prompting helpers: what inference sees, and the per-task latents and estimates
against one-task-at-a-time calls."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fbjax.eval.zero_shot import (
    infer_latents,
    inference_data,
    matched_rotations,
    off_policy_estimates,
    rewarded_in_sample,
    zol_starts,
)
from fbjax.fb import reward_inference
from fbjax.types import Transition
from fbjax.zol import ZOLConfig, density_ratio, fb_value_estimate, positive_ratio, zol_search
from tests.helpers import continuous_agent

ROWS, TASKS = 40, 3


def _transitions():
    rows = np.arange(ROWS, dtype=np.float32)
    obs = np.stack([rows, -rows, rows / 2], 1)
    return Transition(obs=obs, action=np.zeros((ROWS, 1), np.float32), next_obs=obs + 0.5,
                      terminal=np.zeros(ROWS, np.float32),
                      start=(np.arange(ROWS) % 10 == 0) * 1.0)


def _rewards():
    return np.arange(ROWS)[:, None] * 10.0 + np.arange(TASKS)[None]  # r[i, t] = 10 i + t


def test_inference_data_keeps_rows_and_rewards_together():
    data = inference_data(_transitions(), _rewards(), num_samples=15, num_starts=3, seed=0)
    rows = np.asarray(data.next_obs[:, 0] - 0.5).astype(int)
    assert len(set(rows.tolist())) == 15  # sampled without replacement
    assert data.rewards.shape == (TASKS, 15)
    np.testing.assert_array_equal(data.rewards, (rows[None] * 10 + np.arange(TASKS)[:, None]))
    starts = np.asarray(data.start_obs[:, 0]).astype(int)
    assert all(s % 10 == 0 for s in starts)  # episode starts only
    assert len(set(starts.tolist())) == 3
    with pytest.raises(ValueError, match="no episode starts"):
        inference_data(_transitions().replace(start=np.zeros(ROWS)), _rewards(), 5, 2, 0)


@pytest.fixture(scope="module")
def prompted():
    agent = continuous_agent()
    params = agent.init(jax.random.PRNGKey(0)).params
    data = inference_data(_transitions(), np.random.default_rng(1).normal(size=(ROWS, TASKS)), 30,
                          4, seed=1)
    return agent, params, data


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_latents_per_task_equal_single_prompt_calls(prompted):
    agent, params, data = prompted
    grid = [ZOLConfig(steps=3, starts="data_topk", top_k=0.1),
            ZOLConfig(steps=3, starts="data_topk", top_k=0.1, lr=0.1)]
    zs = infer_latents(agent, params, data, grid, rwr_iterations=2)
    assert all(x is not None for x in (zs.fb, zs.grid, zs.grid_info, zs.rwr))
    assert zs.grid_info.trace is None  # dropped: the evaluation keeps the diagnostics only
    assert zs.grid.shape == (2, TASKS, agent.config.z_dim)
    for t in range(TASKS):
        z = reward_inference(agent.networks, params.backward, data.next_obs, data.rewards[t])
        np.testing.assert_allclose(zs.fb[t], z, rtol=1e-5, atol=1e-6)
    # Grid setting 1 for task 2 equals a single search with task 2's own start set.
    starts = zol_starts(grid[1], data)
    assert starts.shape == (TASKS, 4 + 3, 3)  # 4 dataset states + the top 10% of 30 samples
    z1, _ = zol_search(agent.networks, params, starts[2:3], data.next_obs, data.rewards[2:3],
                       zs.fb[2:3], agent.config.discount, grid[1])
    np.testing.assert_allclose(zs.grid[1, 2], z1[0], rtol=1e-4, atol=1e-5)
    for z in (zs.grid[0], zs.grid[1], zs.rwr):
        norms = np.linalg.norm(np.asarray(z), axis=1)
        np.testing.assert_allclose(norms, np.sqrt(agent.config.z_dim), rtol=1e-5)
    assert zs.grid_info.at_z.ess.shape == (2, TASKS)


def test_off_policy_estimates_equal_one_task_at_a_time(prompted):
    agent, params, data = prompted
    zs = reward_inference(agent.networks, params.backward, data.next_obs, data.rewards)
    out = off_policy_estimates(agent, params, data, zs)
    gamma = agent.config.discount
    for t in range(TASKS):
        w = density_ratio(agent.networks, params, data.start_obs, data.next_obs, zs[t], gamma,
                          transform="linear")
        value = fb_value_estimate(agent.networks, params, data.start_obs, data.next_obs,
                                  data.rewards[t], zs[t])
        np.testing.assert_allclose(out["fb_value"][t], value, rtol=1e-5, atol=1e-6)
        # The ratio estimate is the mean of w r over the sample, divided by 1 - gamma.
        # J_hat uses the linear ratio made positive, mean 1, clipped at 20 (SPEC section 5).
        clipped = positive_ratio(w, "linear", clip=20.0)
        manual = float(jnp.mean(clipped * data.rewards[t])) / (1 - gamma)
        np.testing.assert_allclose(out["ratio"][t], manual, rtol=1e-5, atol=1e-6)
        assert 0 < float(out["ess"][t]) <= 1 and float(out["max_w"][t]) <= 20 + 1e-4


def test_rewarded_in_sample_counts_against_each_tasks_largest_reward():
    # Task 0 peaks at 1.0 (rewarded from 0.1), task 1 at 0.5 (from 0.05), task 2 never rewarded.
    rewards = np.array([[1.0, 0.5, 0.0], [0.09, 0.05, 0.0], [0.1, 0.04, 0.0], [0.0, 0.0, 0.0]])
    sample = rewards[[1, 2, 3]].T  # (T, n): the last three rows
    np.testing.assert_array_equal(rewarded_in_sample(rewards, sample), [1, 1, 0])


def test_matched_rotations_turn_z_r_through_zols_angle_in_random_directions():
    """The control arm's prompts: each draw keeps |z_r| and the cosine to z_r that ZOL's z has,
    the draws point in different directions, and a zero z_r (nothing rewarded) is left as is."""
    d = 16
    rng = np.random.default_rng(0)
    z_r = rng.normal(size=(3, d)).astype(np.float32)
    z_r *= np.sqrt(d) / np.linalg.norm(z_r, axis=-1, keepdims=True)
    z = z_r + rng.normal(scale=0.3, size=(3, d)).astype(np.float32)  # ZOL moved each a little
    z *= np.sqrt(d) / np.linalg.norm(z, axis=-1, keepdims=True)
    z_r[2] = 0.0
    turned = np.asarray(matched_rotations(z_r, z, jax.random.PRNGKey(0), 5))
    assert turned.shape == (5, 3, d)

    def cos(a, b):
        return np.sum(a * b, -1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))

    for k in range(5):
        np.testing.assert_allclose(np.linalg.norm(turned[k, :2], axis=-1), np.sqrt(d), rtol=1e-5)
        np.testing.assert_allclose(cos(turned[k, :2], z_r[:2]), cos(z[:2], z_r[:2]), atol=1e-5)
    assert np.all(turned[:, 2] == 0.0)
    # Different draws, and none of them ZOL's own direction (cos < 1 between them).
    assert np.all(cos(turned[0, :2], turned[1, :2]) < 0.9999)
    assert np.all(cos(turned[:, :2], z[None, :2]) < cos(z[:2], z[:2]) - 1e-4)
