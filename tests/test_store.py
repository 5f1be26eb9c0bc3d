"""The dataset format: round trip, append, and one clear error per kind of bad file."""

import json
import os

import numpy as np
import pytest

from fbjax.data.store import (
    DatasetError,
    FieldSpec,
    append_dataset,
    read_dataset,
    save_dataset,
)


def _arrays(rows, seed=0):
    rng = np.random.default_rng(seed)
    return {"obs": rng.normal(size=(rows, 4)).astype(np.float32),
            "action": rng.uniform(-1, 1, (rows, 2)).astype(np.float32),
            "next_obs": rng.normal(size=(rows, 4)).astype(np.float32),
            "terminal": np.zeros(rows, np.float32),
            "start": (np.arange(rows) % 5 == 0).astype(np.float32),
            "next_physics": rng.normal(size=(rows, 6))}


def _save(path, rows=20):
    save_dataset(str(path), _arrays(rows), env="point_mass", tasks=["reach_top_left"],
                 collection={"policy": "uniform"}, seed=3)


def test_round_trip_and_append(tmp_path):
    _save(tmp_path)
    append_dataset(str(tmp_path), _arrays(7, seed=1))
    dataset = read_dataset(str(tmp_path))
    arrays, manifest = dataset.arrays(), dataset.manifest
    expected = {k: np.concatenate([_arrays(20)[k], _arrays(7, seed=1)[k]]) for k in _arrays(1)}
    assert sorted(arrays) == sorted(expected)
    for k in expected:
        np.testing.assert_array_equal(arrays[k], expected[k])
    assert manifest.env == "point_mass" and manifest.seed == 3
    assert [s.rows for s in manifest.shards] == [20, 7] and manifest.rows == dataset.rows == 27
    assert manifest.fields["next_physics"] == FieldSpec("float64", (6,))
    # What is written is what is read: the typed manifest round-trips through its JSON.
    written = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest.to_json() == written
    assert list(written) == ["format", "version", "fbjax_version", "env", "tasks", "collection",
                             "seed", "fields", "shards"]
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_truncated_shard_names_the_file(tmp_path):
    _save(tmp_path)
    shard = tmp_path / "shard_00000.npz"
    shard.write_bytes(shard.read_bytes()[:100])
    with pytest.raises(DatasetError, match="shard_00000.npz: unreadable, truncated"):
        read_dataset(str(tmp_path))


def test_wrong_shape_or_dtype_names_the_field(tmp_path):
    _save(tmp_path)
    bad = _arrays(5)
    bad["action"] = bad["action"][:, :1]
    with pytest.raises(DatasetError, match="field 'action' is float32\\[1\\]"):
        append_dataset(str(tmp_path), bad)
    bad = _arrays(5)
    bad["obs"] = bad["obs"].astype(np.float64)
    with pytest.raises(DatasetError, match="field 'obs' is float64"):
        append_dataset(str(tmp_path), bad)
    assert len(read_dataset(str(tmp_path)).manifest.shards) == 1  # nothing half-written


def test_nan_is_refused_before_anything_is_written(tmp_path):
    bad = _arrays(10)
    bad["next_obs"][4, 1] = np.nan
    with pytest.raises(DatasetError, match="field 'next_obs' has NaN/inf \\(first at row 4\\)"):
        save_dataset(str(tmp_path / "d"), bad, env="e", tasks=[], collection={}, seed=0)
    assert not (tmp_path / "d" / "manifest.json").exists()


def test_manifest_that_does_not_fit(tmp_path):
    _save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["shards"][0]["rows"] = 21
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="20 rows, the manifest says 21"):
        read_dataset(str(tmp_path))
    manifest["shards"][0]["rows"] = 20
    manifest["fields"]["obs"]["shape"] = [5]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="field 'obs' is float32\\[4\\] per row, the manifest "
                                           "says float32\\[5\\]"):
        read_dataset(str(tmp_path))
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(DatasetError, match="manifest.json: not valid JSON"):
        read_dataset(str(tmp_path))
    with pytest.raises(DatasetError, match="no manifest"):
        read_dataset(str(tmp_path / "nowhere"))


def test_exorl_episode_import(tmp_path):
    from fbjax.data.exorl import import_exorl_episode

    rng = np.random.default_rng(0)
    t = 6
    episode = {"observation": rng.normal(size=(t + 1, 4)), "action": rng.normal(size=(t + 1, 2)),
               "physics": rng.normal(size=(t + 1, 6)), "reward": rng.normal(size=(t + 1, 1)),
               "discount": np.ones((t + 1, 1))}
    np.savez(tmp_path / "ep.npz", **episode)
    imported = import_exorl_episode(str(tmp_path / "ep.npz"))
    np.testing.assert_allclose(imported.obs, episode["observation"][:-1], rtol=1e-6)
    np.testing.assert_allclose(imported.next_obs, episode["observation"][1:], rtol=1e-6)
    np.testing.assert_allclose(imported.action, episode["action"][1:], rtol=1e-6)
    np.testing.assert_array_equal(imported.next_physics, episode["physics"][1:])
    assert imported.start.tolist() == [1, 0, 0, 0, 0, 0] and not imported.terminal.any()
    save_dataset(str(tmp_path / "ds"), imported.arrays(), env="walker", tasks=["walk"],
                 collection={"source": "exorl"}, seed=0)
    assert read_dataset(str(tmp_path / "ds")).rows == t
    del episode["physics"]
    np.savez(tmp_path / "bad.npz", **episode)
    with pytest.raises(DatasetError, match="bad.npz: missing field\\(s\\) \\['physics'\\]"):
        import_exorl_episode(str(tmp_path / "bad.npz"))
