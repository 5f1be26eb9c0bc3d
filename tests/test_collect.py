"""Reward-free collection: a point-mass dataset made by the binary, and the exploration policies."""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import fbjax.envs as envs
from fbjax.configs import from_dict
from fbjax.data.collect import CollectConfig, collect, make_rollout
from fbjax.data.relabel import relabel
from fbjax.data.store import load_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPISODE = 1000


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_collect_binary_writes_a_valid_point_mass_dataset(tmp_path):
    """4 environments x 1 episode of 1000 steps with RND, through experiments.collect."""
    workdir = tmp_path / "run"
    cmd = [sys.executable, "-m", "experiments.collect",
           f"--config={os.path.join(ROOT, 'experiments', 'configs', 'tiny_point_mass.py')}",
           f"--config.workdir={workdir}", "--config.collect.num_episodes=1",
           f"--config.collect.episode_length={EPISODE}"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "steps/s" in proc.stdout and "ETA" in proc.stdout
    dataset = load_dataset(str(workdir / "dataset"))
    assert not os.path.exists(str(workdir / "dataset.partial"))
    rows = 4 * EPISODE
    assert dataset.obs.shape == (rows, 4) and dataset.next_physics.shape == (rows, 4)
    manifest = dataset.manifest
    assert manifest.collection["policy"] == "rnd" and manifest.env == "point_mass"
    assert manifest.tasks == tuple(envs.tasks("point_mass"))
    # Episodes are contiguous: a start flag every EPISODE rows, s' of one row is s of the next.
    np.testing.assert_array_equal(np.flatnonzero(dataset.start), np.arange(0, rows, EPISODE))
    inside = np.ones(rows - 1, bool)
    inside[EPISODE - 1::EPISODE] = False
    np.testing.assert_array_equal(dataset.next_obs[:-1][inside], dataset.obs[1:][inside])
    np.testing.assert_array_equal(dataset.next_obs, dataset.next_physics)  # obs = (qpos, qvel)
    assert np.abs(dataset.action).max() <= 1.0 and not dataset.terminal.any()
    # The stored physics relabels to rewards in [0, 1] for every task.
    rewards = np.asarray(relabel(envs.make("point_mass"), dataset.next_physics, dataset.action))
    assert rewards.shape == (rows, 5) and rewards.min() >= 0 and rewards.max() <= 1
    # Running again with the same settings keeps the dataset; other settings are refused.
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "keeping it" in again.stdout
    other = subprocess.run(cmd + ["--config.collect.policy=noise"], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    assert other.returncode != 0 and "other settings" in other.stderr


def _lag_one_correlation(actions, num_envs, length):
    a = actions.reshape(num_envs, length, -1)
    return float(np.mean([np.corrcoef(a[e, :-1, k], a[e, 1:, k])[0, 1]
                          for e in range(num_envs) for k in range(a.shape[-1])]))


def test_policies_and_rollout_match_a_python_loop():
    domain = envs.make("point_mass")
    uniform = CollectConfig(policy="uniform", num_envs=3, episode_length=50)
    out = jax.tree.map(np.asarray, make_rollout(domain, uniform)(None, jax.random.PRNGKey(0)))
    # Replaying the recorded actions step by step reproduces every next observation.
    step, reset = jax.jit(domain.step), jax.jit(domain.reset)  # op by op, a reset took 7 s
    keys = jax.random.split(jax.random.split(jax.random.PRNGKey(0), 3)[0], 3)
    for env in range(3):
        state = reset(keys[env])
        for t in range(50):
            row = env * 50 + t
            np.testing.assert_allclose(state.obs, out["obs"][row], atol=1e-6)
            state = step(state, out["action"][row])
            np.testing.assert_allclose(state.obs, out["next_obs"][row], atol=1e-6)
    assert abs(_lag_one_correlation(out["action"], 3, 50)) < 0.2
    noise = CollectConfig(policy="noise", num_envs=3, episode_length=200, noise_correlation=0.9)
    actions = np.asarray(make_rollout(domain, noise)(None, jax.random.PRNGKey(1))["action"])
    assert _lag_one_correlation(actions, 3, 200) > 0.7  # AR(1) with rho = 0.9, then clipped


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_rnd_predictor_learns_and_configs_validate():
    domain = envs.make("point_mass")
    config = from_dict(CollectConfig, {"policy": "rnd", "num_envs": 8, "num_episodes": 3,
                             "episode_length": 100,
                             "rnd": {"hidden": 32, "updates_per_episode": 100,
                                     "td3": {"hidden": 32, "layers": 1}}}, "collect")
    lines, blocks = [], []
    state = collect(domain, config, 0, blocks.append, progress_fn=lines.append)
    losses = [float(line.split("rnd_loss=")[1]) for line in lines]
    assert losses[-1] < losses[0]  # the predictor fits the visited states
    assert int(state.explorer.step) == 300 and len(blocks) == 3
    # A partial rnd.td3 keeps RNDConfig's own TD3 defaults for the fields it does not name.
    assert config.rnd.td3.discount == 0.99 and config.rnd.td3.hidden == 32
    with pytest.raises(ValueError, match="policy 'random' is not one of"):
        from_dict(CollectConfig, {"policy": "random"}, "collect")
    with pytest.raises(ValueError, match=r"collect.rnd: unknown field\(s\) \['size'\]"):
        from_dict(CollectConfig, {"rnd": {"size": 3}}, "collect")
    with pytest.raises(ValueError, match="num_envs must be >= 1"):
        CollectConfig(num_envs=0)
    with pytest.raises(ValueError, match="start 'everywhere' is not one of"):
        CollectConfig(start="everywhere")


def test_collection_can_start_anywhere_in_the_maze():
    config = CollectConfig(policy="uniform", num_envs=64, num_episodes=1, episode_length=2,
                           start="anywhere")
    blocks = []
    collect(envs.make("point_mass_maze"), config, 0, blocks.append, progress_fn=None)
    starts = blocks[0]["obs"][blocks[0]["start"] > 0]
    assert len(starts) == 64
    in_rooms = {(bool(x > 0), bool(y > 0)) for x, y in starts[:, :2]}
    assert len(in_rooms) == 4  # 64 starts miss a room with probability 4 * 0.75^64 < 1e-7
    with pytest.raises(ValueError, match="domain 'point_mass' has no anywhere_qpos"):
        collect(envs.make("point_mass"), config, 0, blocks.append, progress_fn=None)


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_rnd_explorer_learning_inside_episodes_keeps_episodes_whole():
    """segment_length 30 in 100-step episodes: segments of 30, 30, 30 and 10 steps, the explorer
    learning after each (its updates split in proportion), and every episode still one
    contiguous, continuous run of rows."""
    domain = envs.make("point_mass")
    config = from_dict(CollectConfig, {"policy": "rnd", "num_envs": 4, "num_episodes": 2,
                                       "episode_length": 100,
                                       "rnd": {"hidden": 32, "updates_per_episode": 100,
                                               "segment_length": 30,
                                               "td3": {"hidden": 32, "layers": 1}}}, "collect")
    blocks, lines = [], []
    state = collect(domain, config, 0, blocks.append, progress_fn=lines.append)
    assert int(state.explorer.step) == 2 * (30 + 30 + 30 + 10)
    assert "explorer learns every 30 steps" in lines[-1]
    for block in blocks:
        assert block["obs"].shape == (400, domain.obs_dim)
        starts = np.flatnonzero(block["start"])
        np.testing.assert_array_equal(starts, [0, 100, 200, 300])
        for e in range(4):  # each state continues the last, across segment boundaries too
            rows = slice(100 * e, 100 * (e + 1))
            np.testing.assert_array_equal(block["next_obs"][rows][:-1], block["obs"][rows][1:])
    # The second block is the explorer's (the first acts uniformly): actions in [-1, 1].
    assert np.all(np.abs(blocks[1]["action"]) <= 1.0)
    with pytest.raises(ValueError, match="segment_length must be >= 0"):
        from_dict(CollectConfig, {"rnd": {"segment_length": -1}}, "collect")
