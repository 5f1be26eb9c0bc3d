"""Importing an ExoRL buffer folder: episodes in ExoRL's layout made from fbjax's own point-mass
rollouts come back as a dataset whose observations (recomputed from physics) equal the ones the
environment showed, and the pipeline keeps it."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fbjax.envs as envs
from fbjax.data.exorl import import_exorl, main
from fbjax.data.store import DatasetError, load_dataset
from fbjax.pipeline.config import ExperimentConfig
from fbjax.pipeline.mjx import collect_data, load_checked

STEPS = 20


def _write_episodes(folder, domain, count):
    """ExoRL's layout: T+1 entries per field, action[0] and reward[0] placeholders."""
    os.makedirs(folder)
    step, reset = jax.jit(domain.step), jax.jit(domain.reset)
    for e in range(count):
        key = jax.random.PRNGKey(e)
        state = reset(key)
        obs, physics, actions = [state.obs], [domain.physics(state)], [jnp.zeros(2)]
        for t in range(STEPS):
            action = jax.random.uniform(jax.random.fold_in(key, t), (2,), minval=-1, maxval=1)
            state = step(state, action)
            obs.append(state.obs)
            physics.append(domain.physics(state))
            actions.append(action)
        np.savez(os.path.join(folder, f"episode_{e:03d}.npz"), observation=np.stack(obs),
                 action=np.stack(actions), physics=np.stack(physics),
                 reward=np.zeros((STEPS + 1, 1)), discount=np.ones((STEPS + 1, 1)))
        yield np.stack(obs)


def test_import_recomputes_observations_and_the_pipeline_keeps_the_dataset(tmp_path):
    domain = envs.make("point_mass")
    shown = list(_write_episodes(tmp_path / "buffer", domain, 3))
    dest = tmp_path / "work" / "dataset"
    summary = import_exorl(str(tmp_path / "buffer"), str(dest), "point_mass",
                           episodes_per_shard=2, progress_fn=None)
    assert summary.episodes == 3 and summary.transitions == 3 * STEPS
    # float32 physics -> observation: the same function the environment ran
    assert summary.max_observation_difference <= 1e-6
    dataset = load_dataset(str(dest))
    assert dataset.manifest.source == "exorl" and len(dataset.manifest.shards) == 2
    np.testing.assert_allclose(dataset.obs[:STEPS], shown[0][:-1], atol=1e-6)
    np.testing.assert_allclose(dataset.next_obs[STEPS:2 * STEPS], shown[1][1:], atol=1e-6)
    assert dataset.start.reshape(3, STEPS)[:, 0].tolist() == [1, 1, 1]
    config = ExperimentConfig(workdir=str(tmp_path / "work"))
    assert collect_data(config) == str(dest)  # kept, not recollected
    assert load_checked(config).rows == 3 * STEPS


def test_import_refuses_another_domains_episodes_and_an_empty_folder(tmp_path, capsys):
    domain = envs.make("point_mass")
    list(_write_episodes(tmp_path / "buffer", domain, 1))
    with pytest.raises(DatasetError, match=r"episode_000.npz: physics of size 4 .* domain "
                                           r"'walker' has physics of size 18"):
        import_exorl(str(tmp_path / "buffer"), str(tmp_path / "out"), "walker", progress_fn=None)
    assert not os.path.exists(tmp_path / "out") and not os.path.exists(tmp_path / "out.partial")
    # A bad episode after good ones: the shards already written are removed too.
    np.savez(tmp_path / "buffer" / "episode_001.npz", observation=np.zeros((3, 4)))
    with pytest.raises(DatasetError, match=r"episode_001.npz: missing field"):
        import_exorl(str(tmp_path / "buffer"), str(tmp_path / "out"), "point_mass",
                     episodes_per_shard=1, progress_fn=None)
    assert not os.path.exists(tmp_path / "out") and not os.path.exists(tmp_path / "out.partial")
    # Observations that stored (qpos, qvel) do not determine (filter activations, force
    # sensors) are refused before anything is read or written.
    with pytest.raises(DatasetError, match="quadruped: its observation reads contact or "
                                           "acceleration sensors"):
        import_exorl(str(tmp_path / "buffer"), str(tmp_path / "out"), "quadruped",
                     progress_fn=None)
    assert not os.path.exists(tmp_path / "out") and not os.path.exists(tmp_path / "out.partial")
    os.makedirs(tmp_path / "empty")
    assert main([str(tmp_path / "empty"), str(tmp_path / "out2"), "--domain=point_mass"]) == 1
    assert "no episode .npz files" in capsys.readouterr().err
