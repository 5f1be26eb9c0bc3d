"""Invalid data and settings a user can give, each refused with one clear message that names the
field or file and the value, files unchanged."""

import dataclasses
import json
import os
import shutil

import jax
import numpy as np

from tests.faults.disk import _digest_tree, _small_dataset

# ------------------------------------------------------------------------- bad inputs --

@dataclasses.dataclass
class BadInput:
    name: str
    action: object  # () -> None; must raise
    expect: tuple[str, ...]  # substrings the message must hold
    watch: str | None = None  # a folder whose files must not change


def bad_inputs(folder) -> list[dict]:
    """Invalid data and settings a user can give, each refused with an error whose message names
    the field or file and the value; files under `watch` unchanged."""
    cases = _bad_datasets(folder) + _bad_runs(folder) + _bad_settings()
    return [_refused(case) for case in cases]


def _refused(case: BadInput) -> dict:
    before = _digest_tree(case.watch) if case.watch else None
    try:
        case.action()
        return {"input": case.name, "ok": False, "message": "accepted (no error)"}
    except Exception as e:  # noqa: BLE001 - what was raised is the thing being checked
        message, error = f"{type(e).__name__}: {e}", e
    unchanged = case.watch is None or _digest_tree(case.watch) == before
    named = all(token in message for token in case.expect)
    # A programming error surfacing is not a refusal, even when its text happens to match.
    plain = not isinstance(error, (AttributeError, IndexError, KeyError, NameError,
                                   UnboundLocalError))
    return {"input": case.name, "ok": named and unchanged and plain, "message": message[:400],
            "files_unchanged": unchanged}


def _dataset(folder, name, edit_manifest=None, **changes) -> str:
    """A small point-mass dataset saved under folder/name, its manifest then edited in place."""
    from fbjax.data import store

    path = os.path.join(folder, name)
    shutil.rmtree(path, ignore_errors=True)
    store.save_dataset(path, {**_small_dataset(), **changes}, env="point_mass",
                       tasks=["reach_top_left"], collection={}, seed=0)
    if edit_manifest is not None:
        with open(os.path.join(path, store.MANIFEST)) as f:
            manifest = json.load(f)
        edit_manifest(manifest)
        with open(os.path.join(path, store.MANIFEST), "w") as f:
            json.dump(manifest, f)
    return path


def _bad_datasets(folder) -> list[BadInput]:
    import fbjax.envs as envs
    from fbjax.data import store
    from fbjax.data.store import check_domain

    truncated = _dataset(folder, "truncated")
    shard = os.path.join(truncated, "shard_00000.npz")
    with open(shard, "r+b") as f:
        f.truncate(os.path.getsize(shard) // 2)
    nan = _dataset(folder, "nan")
    arrays = dict(np.load(os.path.join(nan, "shard_00000.npz")))
    arrays["obs"][3, 1] = np.nan
    np.savez_compressed(os.path.join(nan, "shard_00000.npz"), **arrays)
    rows = _dataset(folder, "rows", lambda m: m["shards"][0].update(rows=7))
    deleted = _dataset(folder, "deleted")
    os.remove(os.path.join(deleted, "shard_00000.npz"))
    dtype = _dataset(folder, "dtype", lambda m: m["fields"]["obs"].update(dtype="float16"))
    other_env = _dataset(folder, "labelled_walker", lambda m: m.update(env="walker",
                                                                       tasks=["run"]))
    no_manifest = os.path.join(folder, "no_manifest")
    os.makedirs(no_manifest, exist_ok=True)

    # A cheetah dataset whose manifest says walker: same physics size (18) and actuators (6).
    cheetah = envs.make("cheetah")
    rng = np.random.default_rng(0)
    cheetah_arrays = {"obs": rng.normal(size=(6, cheetah.obs_dim)).astype(np.float32),
                      "next_obs": rng.normal(size=(6, cheetah.obs_dim)).astype(np.float32),
                      "action": rng.uniform(-1, 1, (6, cheetah.action_dim)).astype(np.float32),
                      "terminal": np.zeros(6, np.float32), "start": np.zeros(6, np.float32),
                      "next_physics": rng.normal(size=(6, cheetah.physics_dim))}

    def cheetah_as_walker():
        manifest = store.Manifest(env="walker", tasks=("run",), collection={}, seed=0,
                                  fields=store._field_specs(cheetah_arrays))
        check_domain(store.Dataset(**cheetah_arrays, manifest=manifest), "cheetah_as_walker")

    return [
        BadInput("truncated shard", lambda: store.read_dataset(truncated),
                 ("shard_00000.npz", "truncated"), truncated),
        BadInput("NaN in a shard", lambda: store.read_dataset(nan), ("'obs'", "NaN", "row 3"),
                 nan),
        BadInput("manifest row count edited", lambda: store.read_dataset(rows),
                 ("6 rows", "says 7"), rows),
        BadInput("shard deleted", lambda: store.read_dataset(deleted), ("missing",), deleted),
        BadInput("manifest dtype edited", lambda: store.read_dataset(dtype),
                 ("'obs'", "float16"), dtype),
        BadInput("no manifest", lambda: store.read_dataset(no_manifest), ("no manifest",)),
        BadInput("point-mass data labelled walker", lambda: store.load_dataset(other_env),
                 ("'obs'", "walker"), other_env),
        BadInput("dataset of another domain than the config",
                 lambda: store.load_dataset(other_env, "point_mass"),
                 ("walker", "point_mass"), other_env),
        BadInput("cheetah dataset labelled walker (same physics size)", cheetah_as_walker,
                 ("'obs'", "(17,)", "walker")),
    ]


def _bad_runs(folder) -> list[BadInput]:
    """A run resumed with another z_dim, one trained on fewer rows than a batch, a run folder
    whose config.json is not JSON."""
    from fbjax.train.checkpoint import read_config
    from fbjax.train.run import TrainConfig, train_run
    from tests.helpers import continuous_agent, random_batch

    run = os.path.join(folder, "run")
    shutil.rmtree(run, ignore_errors=True)
    agent = continuous_agent()
    batch = random_batch(64, False)
    quiet = TrainConfig(num_steps=1, steps_per_call=1, save_every=1)
    train_run(agent, batch, run, {"fb": {"z_dim": 8}}, quiet, 0, progress_fn=None)
    short = jax.tree.map(lambda v: v[:3], batch)
    config_json = os.path.join(folder, "broken_config")
    os.makedirs(config_json, exist_ok=True)
    with open(os.path.join(config_json, "config.json"), "w") as f:
        f.write('{"fb": {"z_dim": 8')
    return [
        BadInput("resume with another z_dim",
                 lambda: train_run(agent, batch, run, {"fb": {"z_dim": 12}}, quiet, 0,
                                   progress_fn=None), ("fb.z_dim: 8 -> 12",), run),
        BadInput("batch larger than the dataset",
                 lambda: train_run(agent, short, os.path.join(folder, "short"), {}, quiet, 0,
                                   progress_fn=None), ("3 rows", "batch_size=")),
        BadInput("run config.json not JSON", lambda: read_config(config_json),
                 ("config.json", "not valid JSON"), config_json),
    ]


def _bad_settings() -> list[BadInput]:
    import fbjax.envs as envs
    from fbjax.baselines.td3 import TD3Config
    from fbjax.configs import from_dict
    from fbjax.fb.config import FBConfig
    from fbjax.pipeline.config import EvalConfig, ExperimentConfig
    from fbjax.train.run import TrainConfig
    from fbjax.zol.search import ZOLConfig

    def mjx(**values):
        return lambda: from_dict(ExperimentConfig, values, "config")

    return [
        BadInput("negative FB learning rate", lambda: FBConfig(lr_forward=-1e-4),
                 ("lr_forward=-0.0001",)),
        BadInput("zero TD3 learning rate", lambda: TD3Config(lr=0.0), ("TD3Config.lr", "0.0")),
        BadInput("negative ZOL learning rate", lambda: ZOLConfig(lr=-1.0), ("ZOLConfig.lr",)),
        BadInput("task not in the domain",
                 lambda: EvalConfig(tasks="reach_top_left,run").task_ids(
                     envs.make("point_mass").task_names), ("['run']", "reach_top_left")),
        BadInput("unknown method", lambda: EvalConfig(methods="fb,sac"), ("sac",)),
        BadInput("unknown domain", lambda: envs.make("pendulum"), ("pendulum",)),
        BadInput("save_every not a multiple of steps_per_call",
                 lambda: TrainConfig(steps_per_call=1000, save_every=10), ("save_every=10",)),
        BadInput("negative number of steps", lambda: TrainConfig(num_steps=-5),
                 ("num_steps", "-5")),
        BadInput("no training seeds", mjx(seeds=()), ("seeds",)),
        BadInput("unknown collection policy", mjx(collect={"policy": "expert"}), ("expert",)),
        BadInput("unknown config field", mjx(fb={"zdim": 8}), ("zdim",)),
        BadInput("wrong type for a field", mjx(fb={"z_dim": "big"}), ("z_dim", "big")),
        BadInput("unknown ZOL start set", lambda: ZOLConfig(starts="random"), ("random",)),
    ]
