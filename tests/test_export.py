"""Inference checkpoints (fbjax.train.export): the networks alone, bit for bit, with a digest
that catches a damaged file, and the pipeline's check that an export is the configured model."""

import dataclasses
import json
import os

import jax
import numpy as np
import pytest

from fbjax.data.store import Manifest
from fbjax.pipeline.config import ExperimentConfig
from fbjax.pipeline.pretrained import check_export, check_steps
from fbjax.train import Checkpointer, FBRun
from fbjax.train.export import PARAMS, export_fb, load_export
from tests.helpers import ACTION_DIM, OBS_DIM, TINY, continuous_agent


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """An FB run directory as train_run leaves it, its parameters moved off their initial
    values (every array distinct, zero biases included, so a mix-up of two would show)."""
    state = continuous_agent().init(jax.random.PRNGKey(0))
    rng = np.random.default_rng(1)
    moved = jax.tree.map(lambda x: x + 0.01 * rng.standard_normal(x.shape, np.float32),
                         state.params)
    state = state.replace(params=moved, step=state.step + 1)
    path = str(tmp_path_factory.mktemp("fb") / "seed_0")
    ckpt = Checkpointer(path)
    ckpt.write_config({**FBRun(fb=TINY, obs_dim=OBS_DIM, action_dim=ACTION_DIM,
                               domain="point_mass_maze").to_json(), "seed": 0})
    ckpt.save(1, state, {"step": 1})
    ckpt.close()
    return path, state


def test_an_export_holds_the_networks_bit_for_bit_and_nothing_else(run_dir, tmp_path):
    path, state = run_dir
    meta = export_fb(path, str(tmp_path / "model"), command="test")
    assert sorted(os.listdir(tmp_path / "model")) == ["inference.json", PARAMS]
    assert meta["step"] == 1 and meta["run"]["domain"] == "point_mass_maze"
    assert meta["provenance"]["command"] == "test" and len(meta["digest"]) == 64
    agent, params, run, read = load_export(str(tmp_path / "model"))
    assert read == json.loads((tmp_path / "model" / "inference.json").read_text())
    assert run.fb == TINY and (run.obs_dim, run.action_dim) == (OBS_DIM, ACTION_DIM)
    assert jax.tree.structure(params) == jax.tree.structure(state.params)
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(state.params), strict=True):
        np.testing.assert_array_equal(a, np.asarray(b))
        assert np.asarray(a).dtype == np.asarray(b).dtype
    # The parameters alone: no target networks, no optimiser state.
    size = os.path.getsize(tmp_path / "model" / PARAMS)
    floats = sum(np.size(x) for x in jax.tree.leaves(state.params))
    assert 4 * floats <= size < 4 * floats + 4096
    # Exported again over itself: replaced whole.
    assert export_fb(path, str(tmp_path / "model"))["digest"] == meta["digest"]
    assert sorted(os.listdir(tmp_path)) == ["model"]


def test_a_damaged_or_mismatched_export_is_refused_by_name(run_dir, tmp_path):
    path, _ = run_dir
    folder = tmp_path / "model"
    export_fb(path, str(folder))
    raw = bytearray((folder / PARAMS).read_bytes())
    raw[-5] ^= 1  # one bit of the last array's last value
    (folder / PARAMS).write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="do not match the digest"):
        load_export(str(folder))
    export_fb(path, str(folder))
    meta = json.loads((folder / "inference.json").read_text())
    meta["run"]["fb"]["z_dim"] = 6  # describes other networks than the file holds
    (folder / "inference.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="describes"):
        load_export(str(folder))
    with pytest.raises(FileNotFoundError, match="no .*inference.json"):
        load_export(str(tmp_path / "nothing"))
    (tmp_path / "mine").mkdir()
    with pytest.raises(FileExistsError, match="not an inference checkpoint"):
        export_fb(path, str(tmp_path / "mine"))


def test_the_pipeline_refuses_an_export_of_another_model():
    run = FBRun(fb=TINY, obs_dim=OBS_DIM, action_dim=ACTION_DIM, domain="point_mass_maze")
    manifest = Manifest(env="point_mass_maze", tasks=(), collection={}, seed=0, fields={})
    config = ExperimentConfig(domain="point_mass_maze", fb=TINY)
    check_export(config, run, manifest, "m", (OBS_DIM, ACTION_DIM))  # the same model: passes
    wider = dataclasses.replace(config, fb=dataclasses.replace(TINY, backward_hidden=16))
    with pytest.raises(ValueError, match=r"m is another model.*fb.backward_hidden: 8 -> 16"):
        check_export(wider, run, manifest, "m")
    walker = dataclasses.replace(manifest, env="walker")
    with pytest.raises(ValueError, match="domain: 'point_mass_maze' -> 'walker'"):
        check_export(config, run, walker, "m")
    with pytest.raises(ValueError, match=r"\(obs_dim, action_dim\): \(3, 2\) -> \(4, 2\)"):
        check_export(config, run, manifest, "m", (4, 2))
    # An export taken before the config's update count: refused with the flag that evaluates it,
    # not the advice to train that a run in the workdir gets.
    exported = dataclasses.replace(config, fb_from="models")
    check_steps(exported, 0, config.train.num_steps, "m")
    with pytest.raises(ValueError, match=r"exported at that update.*num_steps=7$") as refused:
        check_steps(exported, 0, 7, "m")
    assert "experiments.train" not in str(refused.value)
