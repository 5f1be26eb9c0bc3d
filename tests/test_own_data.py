"""Bring your own data: transitions from arrays or an HDF5 file, without simulator state, with
rewards as functions of observations; FB trains on them and its prompts point the right way."""

import os
import shutil

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fbjax.data import (
    DatasetError,
    from_arrays,
    load_dataset,
    load_transitions,
    observation_rewards,
    save_transitions,
)
from fbjax.data.hdf5 import Hdf5Summary, read_hdf5
from fbjax.data.hdf5 import main as hdf5_main
from fbjax.fb import FBConfig, act, reward_inference
from fbjax.fb.learner import FBAgent
from fbjax.train.run import FBRun, TrainConfig, load_fb, train_run
from fbjax.zol import density_ratio


def plane_walks(episodes: int, length: int, seed: int = 0):
    """A point in [-1, 1]^2 moved by 0.1 a per step under uniform random actions: obs, action,
    next_obs of `episodes` episodes of `length` steps, starting near the origin."""
    rng = np.random.default_rng(seed)
    obs, action, next_obs = [], [], []
    for _ in range(episodes):
        s = rng.uniform(-0.2, 0.2, 2)
        for _ in range(length):
            a = rng.uniform(-1, 1, 2)
            s2 = np.clip(s + 0.1 * a, -1, 1)
            obs.append(s), action.append(a), next_obs.append(s2)
            s = s2
    return np.array(obs), np.array(action), np.array(next_obs)


def near(x: float):
    """A reward of the next observation: a bump at (x, 0)."""
    def reward(next_obs, action):
        del action
        return jnp.exp(-jnp.sum((next_obs - jnp.array([x, 0.0])) ** 2) / 0.05)
    return reward


def test_from_arrays_infers_episode_starts_from_ends_and_breaks():
    obs, action, next_obs = plane_walks(3, 4)
    timeout = np.zeros(12)
    timeout[[3, 7]] = 1  # episode ends at rows 3 and 7: rows 4 and 8 start
    t = from_arrays(obs, action, next_obs, timeout=timeout)
    assert np.flatnonzero(t.start).tolist() == [0, 4, 8]
    assert not t.terminal.any() and t.obs.dtype == np.float32
    # Without the flags, the breaks between episodes (s != previous s') say the same.
    assert np.flatnonzero(from_arrays(obs, action, next_obs).start).tolist() == [0, 4, 8]
    # Given starts are kept as they are.
    assert np.flatnonzero(from_arrays(obs, action, next_obs, start=np.eye(12)[5]).start
                          ).tolist() == [5]


@pytest.mark.parametrize("change, message", [
    (lambda a: {**a, "obs": a["obs"][:, :1]}, "next_obs has shape (12, 2), obs (12, 1)"),
    (lambda a: {**a, "action": a["action"] * 3}, "must lie in [-1, 1]"),
    (lambda a: {**a, "action": a["action"][:5]}, "action has 5 rows, obs 12"),
    (lambda a: {**a, "obs": np.where(np.eye(12, 2) > 0, np.nan, a["obs"])},
     "obs has NaN/inf (first at row 0)"),
    (lambda a: {**a, "terminal": np.zeros(3)}, "terminal has 3 rows, obs 12"),
    (lambda a: {**a, "action": a["action"][:, 0]}, "a 1-D action must be integer"),
])
def test_from_arrays_names_the_field_that_is_wrong(change, message):
    obs, action, next_obs = plane_walks(3, 4)
    arrays = change({"obs": obs, "action": action, "next_obs": next_obs})
    with pytest.raises(DatasetError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        from_arrays(**arrays)


def test_observation_rewards_equal_a_row_by_row_loop():
    t = from_arrays(*plane_walks(4, 25))
    rewards = observation_rewards({"right": near(0.6), "left": near(-0.6)}, t, chunk_size=7)
    loop = [[float(near(x)(t.next_obs[i], t.action[i])) for x in (0.6, -0.6)]
            for i in range(len(t))]
    np.testing.assert_allclose(rewards, np.array(loop), rtol=1e-6, atol=1e-7)
    assert observation_rewards(near(0.6), t).shape == (len(t), 1)
    with pytest.raises(ValueError, match="'batch' returns shape \\(2,\\)"):
        observation_rewards({"batch": lambda next_obs, action: next_obs}, t)


def test_hdf5_flat_without_next_observations_drops_the_rows_whose_s_prime_is_missing(tmp_path):
    obs, action, _ = plane_walks(2, 5)
    terminals, timeouts = np.zeros(10), np.zeros(10)
    terminals[4], timeouts[7] = 1, 1
    path = str(tmp_path / "flat.hdf5")
    with h5py.File(path, "w") as f:
        f["observations"], f["actions"] = obs, action
        f["terminals"], f["timeouts"] = terminals, timeouts
    t, summary = read_hdf5(path)
    keep = [0, 1, 2, 3, 5, 6, 8]  # rows 4 and 7 end episodes, row 9 is the last
    assert summary == Hdf5Summary(layout="flat", rows=7, dropped_rows=3)
    np.testing.assert_array_equal(t.obs, obs[keep].astype(np.float32))
    np.testing.assert_array_equal(t.next_obs, obs[[k + 1 for k in keep]].astype(np.float32))
    assert np.flatnonzero(t.start).tolist() == [0, 4, 6]  # rows 0, 5 and 8 of the file


def test_hdf5_episodes_layout_and_its_errors(tmp_path):
    obs, action, next_obs = plane_walks(2, 3)
    path = str(tmp_path / "episodes.hdf5")
    with h5py.File(path, "w") as f:
        for e in range(2):
            group = f.create_group(f"episode_{e}")
            rows = slice(3 * e, 3 * e + 3)
            group["observations"] = np.concatenate([obs[rows], next_obs[rows][-1:]])
            group["actions"] = action[rows]
            group["terminations"] = np.array([0, 0, e])
    t, summary = read_hdf5(path)
    assert summary.layout == "episodes" and len(t) == 6
    np.testing.assert_array_equal(t.next_obs, next_obs.astype(np.float32))
    assert t.start.tolist() == [1, 0, 0, 1, 0, 0] and t.terminal.tolist() == [0] * 5 + [1]
    with h5py.File(path, "a") as f:
        del f["episode_1/actions"]
    with pytest.raises(DatasetError, match="no dataset /episode_1/actions"):
        read_hdf5(path)
    with pytest.raises(ValueError, match="unknown key"):
        read_hdf5(path, {"obs": "x"})


def test_a_dataset_without_physics_is_refused_by_the_mjx_pipeline(tmp_path):
    from fbjax.data import save_dataset

    data = from_arrays(*plane_walks(2, 3))
    save_transitions(str(tmp_path / "d"), data)
    dataset = load_dataset(str(tmp_path / "d"))  # no domain asked for: it loads
    assert dataset.manifest.env is None and dataset.next_physics is None
    assert sorted(dataset.arrays()) == sorted(dataset.manifest.fields)
    assert "next_physics" not in dataset.manifest.fields
    np.testing.assert_array_equal(load_transitions(str(tmp_path / "d")).start, data.start)
    fields = {k: getattr(data, k) for k in ("obs", "action", "next_obs", "terminal", "start")}
    with pytest.raises(DatasetError, match="needs next_physics"):
        save_dataset(str(tmp_path / "e"), fields, env="point_mass", tasks=[], collection={},
                     seed=0)
    with pytest.raises(DatasetError, match="neither next_physics nor tasks"):
        save_dataset(str(tmp_path / "e"), {**fields, "next_physics": fields["obs"]}, env=None,
                     tasks=[], collection={}, seed=0)
    with pytest.raises(DatasetError, match="has no environment .* config's domain is "
                                           "'point_mass'"):
        load_dataset(str(tmp_path / "d"), "point_mass")


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_fb_trains_on_an_imported_hdf5_file_and_its_prompts_seek_their_rewards(tmp_path):
    obs, action, next_obs = plane_walks(40, 50)
    timeouts = np.zeros(len(obs))
    timeouts[49::50] = 1
    source = str(tmp_path / "buffer.hdf5")
    with h5py.File(source, "w") as f:
        f["observations"], f["actions"], f["next_observations"] = obs, action, next_obs
        f["terminals"], f["timeouts"] = np.zeros(len(obs)), timeouts
    workdir = tmp_path / "work"
    assert hdf5_main([source, str(workdir / "dataset")]) == 0
    assert hdf5_main([source, str(workdir / "dataset")]) == 1  # never overwrites
    data = load_transitions(str(workdir / "dataset"))
    assert data.start.sum() == 40
    np.testing.assert_array_equal(data.next_obs, next_obs.astype(np.float32))

    config = FBConfig(z_dim=8, backward_hidden=64, forward_hidden=64, actor_hidden=64,
                      batch_size=128, discount=0.9, lr_forward=1e-3, lr_backward=1e-3,
                      lr_actor=1e-3)
    agent = FBAgent(config, 2, 2)
    run = FBRun(fb=config, obs_dim=2, action_dim=2, dataset="dataset")
    state = train_run(agent, data, str(workdir / "fb"), run,
                      TrainConfig(num_steps=1000, steps_per_call=500, save_every=500), seed=0,
                      progress_fn=None)

    moved = tmp_path / "moved"
    shutil.move(str(workdir), str(moved))
    agent, loaded, saved = load_fb(str(moved / "fb"))
    jax.tree.map(np.testing.assert_array_equal, loaded.params, state.params)
    data = load_transitions(os.path.join(moved, saved.dataset))  # relative to the workdir

    rewards = observation_rewards({"right": near(0.6), "left": near(-0.6)}, data)
    z = reward_inference(agent.networks, loaded.params.backward, jnp.asarray(data.next_obs),
                         jnp.asarray(rewards.T))
    starts = jnp.asarray(data.obs[data.start > 0])
    for i, sign in enumerate((1, -1)):
        # The best policy for a bump >= 0.4 away from every start runs at it at full speed
        # (a_x = +-1 for >= 4 steps); an untrained actor's mean a_x is about 0.
        a = jax.vmap(lambda s, i=i: act(agent.networks, loaded.params, s, z[i]))(starts)
        assert sign * float(jnp.mean(a[:, 0])) > 0.5
        w = density_ratio(agent.networks, loaded.params, starts, jnp.asarray(data.next_obs), z[i],
                          config.discount)
        assert w.shape == (len(data),) and bool(jnp.all(jnp.isfinite(w)))
        # pi_z visits its bump's side of the plane more than the random walks do, the other
        # side less: the ratio is higher where the reward is.
        x = data.next_obs[:, 0]
        toward, away = float(jnp.mean(w[sign * x > 0.3])), float(jnp.mean(w[sign * x < -0.3]))
        assert toward > away, (toward, away)


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_the_own_data_page_runs_as_written(tmp_path, monkeypatch):
    """docs/own_data.md's Python blocks, executed in order on random walks in a fresh folder:
    the page's calls are the library's."""
    import re

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "docs", "own_data.md")) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    assert len(blocks) == 2
    obs, action, next_obs = plane_walks(10, 20)
    namespace = {"obs": obs, "action": action, "next_obs": next_obs,
                 "terminal": np.zeros(len(obs)), "timeout": np.tile(np.eye(20)[19], 10)}
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "docs/own_data.md", "exec"), namespace)  # noqa: S102
    assert namespace["z"].shape == (1, 8) and namespace["data"].start.sum() == 10
    assert namespace["run"].dataset == "dataset"
