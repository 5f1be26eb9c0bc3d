"""The on-disk dataset format: compressed `.npz` shards plus a JSON manifest.

    DIR/manifest.json      {"format": "fbjax-dataset", "version": 1, "fbjax_version": ...,
                            "env": ..., "tasks": [...], "collection": {...}, "seed": ...,
                            "fields": {name: {"dtype": ..., "shape": [per-row dims]}},
                            "shards": [{"file": "shard_00000.npz", "rows": n}, ...]}
    DIR/shard_00000.npz    one array per field, `rows` rows each

Fields: obs, action, next_obs, terminal, start (see `fbjax.types.Transition`) and next_physics,
the simulator state of s' that relabelling needs. A dataset from outside fbjax's simulators
(`fbjax.data.from_arrays`, `fbjax.data.hdf5`) has no next_physics and `"env": null`: FB trains on
it and its rewards are functions of observations (`fbjax.data.observation_rewards`), but the MJX
pipeline, which relabels and evaluates in a domain's simulator, refuses it.

Every write goes to a temporary file that is renamed into place, so an interrupted save leaves the
previous dataset intact. Loading validates everything against the manifest and reports the first
problem with the file and field it is in.
"""

import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np

from fbjax.version import __version__

FORMAT, VERSION = "fbjax-dataset", 1
MANIFEST = "manifest.json"
FIELDS = ("obs", "action", "next_obs", "terminal", "start", "next_physics")
REQUIRED = FIELDS[:5]  # a dataset without simulator state lacks next_physics


class DatasetError(ValueError):
    """A dataset file does not hold what its manifest (or the format) says."""


def _field_specs(arrays: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    return {k: {"dtype": str(v.dtype), "shape": list(v.shape[1:])} for k, v in arrays.items()}


def _stored(arrays) -> tuple[str, ...]:
    """The fields a dataset stores: all of FIELDS, or REQUIRED when it has no simulator state."""
    return FIELDS if "next_physics" in arrays else REQUIRED


def _check_arrays(arrays: dict[str, np.ndarray], where: str,
                  specs: dict[str, dict[str, Any]] | None = None) -> int:
    names = _stored(specs if specs is not None else arrays)
    missing = [f for f in names if f not in arrays]
    if missing:
        raise DatasetError(f"{where}: missing field(s) {missing}; expected {list(names)}")
    rows = {k: arrays[k].shape[0] if arrays[k].ndim else -1 for k in names}
    if len(set(rows.values())) != 1:
        raise DatasetError(f"{where}: fields have different row counts {rows}")
    for name in names:
        value = arrays[name]
        if specs is not None:
            want = specs[name]
            if str(value.dtype) != want["dtype"] or list(value.shape[1:]) != want["shape"]:
                raise DatasetError(
                    f"{where}: field {name!r} is {value.dtype}{list(value.shape[1:])} per row, "
                    f"the manifest says {want['dtype']}{want['shape']}")
        if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
            bad = int(np.argwhere(~np.isfinite(value.reshape(len(value), -1)))[0, 0])
            raise DatasetError(f"{where}: field {name!r} has NaN/inf (first at row {bad})")
    return rows["obs"]


def _atomic_write(path: str, write) -> None:
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as e:
        raise OSError(e.errno, f"writing {path} failed ({e.strerror or e}); nothing was "
                               f"replaced: the dataset in {directory} is as it was before") from e
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _write_shard(directory: str, index: int, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    name = f"shard_{index:05d}.npz"

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **{k: arrays[k] for k in _stored(arrays)})

    _atomic_write(os.path.join(directory, name), write)
    return {"file": name, "rows": int(arrays["obs"].shape[0])}


def _write_manifest(directory: str, manifest: dict[str, Any]) -> None:
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(manifest, f, indent=2)

    _atomic_write(os.path.join(directory, MANIFEST), write)


def save_dataset(directory: str, arrays: dict[str, np.ndarray], *, env: str | None,
                 tasks: list[str], collection: dict[str, Any], seed: int) -> None:
    """Writes a new dataset (one shard) to `directory`, which must not hold one already.
    `env` None: data from outside fbjax's simulators, without next_physics or tasks."""
    arrays = {k: np.asarray(arrays[k]) for k in arrays}
    _check_arrays(arrays, f"save_dataset({directory})")
    if env is None and ("next_physics" in arrays or tasks):
        raise DatasetError(f"save_dataset({directory}): env=None is data without a simulator, "
                           "so it has neither next_physics nor tasks; name the domain the "
                           "physics is from, or leave both out")
    if env is not None and "next_physics" not in arrays:
        raise DatasetError(f"save_dataset({directory}): a dataset of domain {env!r} needs "
                           "next_physics (relabelling reads it); data without simulator state "
                           "is saved with env=None")
    os.makedirs(directory, exist_ok=True)
    if os.path.exists(os.path.join(directory, MANIFEST)):
        raise FileExistsError(f"{directory} already holds a dataset; use append_dataset")
    manifest = {"format": FORMAT, "version": VERSION, "fbjax_version": __version__,
                "env": env, "tasks": list(tasks), "collection": collection, "seed": seed,
                "fields": _field_specs({k: arrays[k] for k in _stored(arrays)}), "shards": []}
    manifest["shards"].append(_write_shard(directory, 0, arrays))
    _write_manifest(directory, manifest)


def append_dataset(directory: str, arrays: dict[str, np.ndarray]) -> None:
    """Adds the rows of `arrays` as a new shard (same fields, dtypes and shapes)."""
    manifest = read_manifest(directory)
    arrays = {k: np.asarray(arrays[k]) for k in arrays}
    _check_arrays(arrays, f"append_dataset({directory})", manifest["fields"])
    manifest["shards"].append(_write_shard(directory, len(manifest["shards"]), arrays))
    _write_manifest(directory, manifest)  # the shard is only part of the dataset once listed


def read_manifest(directory: str) -> dict[str, Any]:
    path = os.path.join(directory, MANIFEST)
    if not os.path.exists(path):
        raise DatasetError(f"{path}: no manifest; is {directory} an fbjax dataset?")
    try:
        with open(path) as f:
            manifest = json.load(f)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: not valid JSON ({e})") from e
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise DatasetError(f"{path}: format {manifest.get('format')!r} version "
                           f"{manifest.get('version')!r}, expected {FORMAT!r} version {VERSION}")
    for key in ("env", "tasks", "fields", "shards"):
        if key not in manifest:
            raise DatasetError(f"{path}: missing field {key!r}")
    want = sorted(FIELDS if manifest["env"] is not None else REQUIRED)
    if sorted(manifest["fields"]) != want:
        raise DatasetError(f"{path}: field 'fields' lists {sorted(manifest['fields'])}, "
                           f"expected {want} for env {manifest['env']!r}")
    return manifest


def load_dataset(directory: str, domain: str | None = None
                 ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The dataset in `directory` as (arrays, manifest), checked against its domain: the
    manifest's `env` must be a domain fbjax knows (built in or `fbjax.envs.register`ed), equal
    to `domain` when one is given, and every field must have that domain's per-row size; so a
    dataset of one domain labelled as another is refused here, before its physics is relabelled
    with the wrong domain's rewards. `read_dataset` reads the files without the domain check."""
    arrays, manifest = read_dataset(directory)
    check_domain(arrays, manifest, directory, domain)
    return arrays, manifest


def check_domain(arrays: dict[str, np.ndarray], manifest: dict[str, Any], where: str,
                 domain_name: str | None = None) -> None:
    """The dataset's per-row shapes and task list against its domain (the manifest's `env`, which
    must equal `domain_name` when one is given): a dataset of one domain labelled as another with
    the same physics size is refused here, not at a parameter-shape error later."""
    import fbjax.envs as envs

    check_env(manifest, where, domain_name)
    env = manifest["env"]
    if env is None:
        return
    try:
        domain = envs.make(env)
    except (KeyError, ValueError) as e:
        raise DatasetError(f"{where}: manifest env {env!r} is not a domain fbjax knows ({e}); "
                           "register your own with fbjax.envs.register, or read the files "
                           "without the domain check with fbjax.data.read_dataset") from e
    expected = {"obs": domain.obs_dim, "next_obs": domain.obs_dim,
                "action": domain.action_dim, "next_physics": domain.physics_dim}
    for field, size in expected.items():
        got = arrays[field].shape[1:]
        if got != (size,):
            raise DatasetError(
                f"{where}: field {field!r} has per-row shape {tuple(got)}, but domain {env!r} "
                f"has {field} size {size}; is the dataset from another domain than its manifest "
                "says?")
    tasks = list(manifest.get("tasks", []))
    unknown = [t for t in tasks if t not in domain.task_names]
    if unknown:
        raise DatasetError(f"{where}: manifest tasks {unknown} are not tasks of {env!r} "
                           f"({list(domain.task_names)})")


def check_env(manifest: dict[str, Any], where: str, domain_name: str | None = None) -> None:
    """The manifest's `env` against the config's domain (when one is given): a dataset of
    another domain, or one without a simulator, is refused with what to do instead."""
    env = manifest["env"]
    if env is None:
        if domain_name is not None:
            raise DatasetError(
                f"{where}: the dataset has no environment ({_source(manifest)}, no simulator "
                f"state), but the config's domain is {domain_name!r}: the MJX pipeline relabels "
                "and evaluates in a domain's simulator. Train on it with "
                "fbjax.data.load_transitions and fbjax.train.train_run (docs/own_data.md)")
        return
    if domain_name is not None and env != domain_name and not _reads(domain_name, env):
        raise DatasetError(f"{where}: the manifest says env {env!r}, but the config's domain is "
                           f"{domain_name!r}")


def _reads(domain_name: str, env: str) -> bool:
    """Whether domain `domain_name` reads datasets of `env` (`fbjax.envs.with_tasks`)."""
    import fbjax.envs as envs

    try:
        return envs.make(domain_name).data_of == env
    except ValueError:
        return False


def read_dataset(directory: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """All shards concatenated, validated against the manifest (fields, dtypes, row counts, no
    NaN), without the domain check of `load_dataset`; returns (arrays, manifest)."""
    manifest = read_manifest(directory)
    parts = []
    for shard in manifest["shards"]:
        path = os.path.join(directory, shard["file"])
        try:
            with np.load(path) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except FileNotFoundError as e:
            raise DatasetError(f"{path}: listed in the manifest but missing") from e
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
            raise DatasetError(f"{path}: unreadable, truncated or corrupt ({e})") from e
        rows = _check_arrays(arrays, path, manifest["fields"])
        if rows != shard["rows"]:
            raise DatasetError(f"{path}: {rows} rows, the manifest says {shard['rows']}")
        parts.append(arrays)
    if not parts:
        raise DatasetError(f"{directory}: the manifest lists no shards")
    return {k: np.concatenate([p[k] for p in parts]) for k in manifest["fields"]}, manifest


def _source(manifest: dict[str, Any]) -> str:
    collection = manifest.get("collection") or {}
    where = collection.get("path")
    return f"from {collection.get('source', 'outside fbjax')}" + (f" {where}" if where else "")


def import_exorl_episode(path: str) -> dict[str, np.ndarray]:
    """Transitions of one ExoRL-format episode `.npz` (observation, action, physics, reward,
    discount; T+1 entries each, action[0] and reward[0] being placeholders)."""
    try:
        with np.load(path) as npz:
            episode = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
        raise DatasetError(f"{path}: unreadable, truncated or corrupt ({e})") from e
    needed = ("observation", "action", "physics", "discount")
    missing = [k for k in needed if k not in episode]
    if missing:
        raise DatasetError(f"{path}: missing field(s) {missing} of an ExoRL episode")
    lengths = {k: len(episode[k]) for k in needed}
    if len(set(lengths.values())) != 1 or lengths["observation"] < 2:
        raise DatasetError(f"{path}: fields must share a length T+1 >= 2, got {lengths}")
    obs = episode["observation"].astype(np.float32)
    steps = len(obs) - 1
    start = np.zeros(steps, np.float32)
    start[0] = 1.0
    return {"obs": obs[:-1], "action": episode["action"][1:].astype(np.float32),
            "next_obs": obs[1:],
            "terminal": (episode["discount"][1:] == 0).astype(np.float32).reshape(steps),
            "start": start, "next_physics": episode["physics"][1:].astype(np.float64)}
