"""Datasets checked against their domain, and the validator users run."""

import numpy as np
import pytest

from fbjax.data.store import DatasetError, save_dataset
from fbjax.data.validate import main, validate_dataset


def _arrays(obs_dim, action_dim, physics_dim, rows=6):
    rng = np.random.default_rng(0)
    return {"obs": rng.normal(size=(rows, obs_dim)).astype(np.float32),
            "action": rng.uniform(-1, 1, (rows, action_dim)).astype(np.float32),
            "next_obs": rng.normal(size=(rows, obs_dim)).astype(np.float32),
            "terminal": np.zeros(rows, np.float32), "start": np.eye(rows)[0].astype(np.float32),
            "next_physics": rng.normal(size=(rows, physics_dim)).astype(np.float32)}


def test_a_cheetah_dataset_labelled_walker_is_refused(tmp_path, capsys):
    """Cheetah and walker both have 18 physics values and 6 actuators; only the observation size
    (17 vs 24) tells them apart, and it must be checked before anything trains on the data."""
    path = str(tmp_path / "cheetah_as_walker")
    save_dataset(path, _arrays(17, 6, 18), env="walker", tasks=["stand"], collection={}, seed=0)
    with pytest.raises(DatasetError, match=r"field 'obs' has per-row shape \(17,\), but domain "
                                           r"'walker' has obs size 24"):
        validate_dataset(path)
    assert main([path]) == 1
    assert "another domain than its manifest says" in capsys.readouterr().out


def test_validator_accepts_a_matching_dataset_and_names_other_problems(tmp_path, capsys):
    good = str(tmp_path / "point_mass")
    save_dataset(good, _arrays(4, 2, 4), env="point_mass", tasks=["loop"], collection={}, seed=0)
    assert main([good]) == 0
    assert capsys.readouterr().out.startswith(f"OK: {good} holds 6 transitions of point_mass")
    from fbjax.data.store import check_domain, load_dataset

    with pytest.raises(DatasetError, match="the config's domain is 'walker'"):
        check_domain(load_dataset(good), good, "walker")
    bad_task = str(tmp_path / "bad_task")
    save_dataset(bad_task, _arrays(4, 2, 4), env="point_mass", tasks=["run"], collection={},
                 seed=0)
    assert main([bad_task]) == 1 and "tasks ['run'] are not tasks" in capsys.readouterr().out
    assert main([str(tmp_path)]) == 1 and "not a dataset" in capsys.readouterr().out


def test_public_load_dataset_refuses_a_dataset_labelled_as_another_domain(tmp_path):
    """Cheetah and walker share physics (18) and action (6) sizes, so relabelling cheetah physics
    with walker's tasks would run; the public loader refuses the edited manifest on the
    observation size, as the pipeline does, and names the domain a config asks for."""
    import fbjax

    path = str(tmp_path / "cheetah_as_walker")
    save_dataset(path, _arrays(17, 6, 18), env="walker", tasks=["run"], collection={}, seed=0)
    with pytest.raises(DatasetError, match="field 'obs' has per-row shape \\(17,\\), but "
                                           "domain 'walker' has obs size 24"):
        fbjax.load_dataset(path)
    assert fbjax.data.read_dataset(path).obs.shape == (6, 17)  # the files alone are fine
    good = str(tmp_path / "point_mass")
    save_dataset(good, _arrays(4, 2, 4), env="point_mass", tasks=["loop"], collection={}, seed=0)
    with pytest.raises(DatasetError, match="the config's domain is 'walker'"):
        fbjax.load_dataset(good, "walker")
    with pytest.raises(DatasetError, match="fbjax.envs.register"):
        save_dataset(str(tmp_path / "mine"), _arrays(4, 2, 4), env="my_robot", tasks=[],
                     collection={}, seed=0)
        fbjax.load_dataset(str(tmp_path / "mine"))
