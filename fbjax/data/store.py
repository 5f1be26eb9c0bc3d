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

import dataclasses
import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np

from fbjax.types import Transition
from fbjax.version import __version__

FORMAT, VERSION = "fbjax-dataset", 1
MANIFEST = "manifest.json"
FIELDS = ("obs", "action", "next_obs", "terminal", "start", "next_physics")
REQUIRED = FIELDS[:5]  # a dataset without simulator state lacks next_physics


class DatasetError(ValueError):
    """A dataset file does not hold what its manifest (or the format) says."""


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """A stored field's dtype and per-row shape."""

    dtype: str
    shape: tuple[int, ...]

    @classmethod
    def of(cls, value: np.ndarray) -> "FieldSpec":
        return cls(str(value.dtype), tuple(value.shape[1:]))


@dataclasses.dataclass(frozen=True)
class Shard:
    """One `.npz` file of the dataset and its row count."""

    file: str
    rows: int


@dataclasses.dataclass(frozen=True)
class Manifest:
    """What `manifest.json` says: the domain (`env`, None for data without a simulator), its
    tasks, how the data was collected (`collection`, free-form JSON: policy and sizes, or where an
    import came from), the seed, each field's dtype and per-row shape, and the shards in order."""

    env: str | None
    tasks: tuple[str, ...]
    collection: dict[str, Any]
    seed: int | None
    fields: dict[str, FieldSpec]
    shards: tuple[Shard, ...] = ()
    fbjax_version: str = __version__

    @property
    def rows(self) -> int:
        return sum(shard.rows for shard in self.shards)

    @property
    def source(self) -> str | None:
        """Where an imported dataset came from ("exorl", "hdf5", ...); None for one collected."""
        return self.collection.get("source")

    def with_shard(self, shard: Shard) -> "Manifest":
        return dataclasses.replace(self, shards=(*self.shards, shard))

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "fbjax_version": self.fbjax_version,
                "env": self.env, "tasks": list(self.tasks), "collection": self.collection,
                "seed": self.seed,
                "fields": {k: {"dtype": f.dtype, "shape": list(f.shape)}
                           for k, f in self.fields.items()},
                "shards": [{"file": s.file, "rows": s.rows} for s in self.shards]}

    @classmethod
    def from_json(cls, obj: Any, path: str) -> "Manifest":
        """The manifest in `obj` (parsed JSON), refused with the file and field that is wrong."""
        if not isinstance(obj, dict):
            raise DatasetError(f"{path}: expected a JSON object, got {type(obj).__name__}")
        if obj.get("format") != FORMAT or obj.get("version") != VERSION:
            raise DatasetError(f"{path}: format {obj.get('format')!r} version "
                               f"{obj.get('version')!r}, expected {FORMAT!r} version {VERSION}")
        missing = [key for key in ("env", "tasks", "fields", "shards") if key not in obj]
        if missing:
            raise DatasetError(f"{path}: missing field {missing[0]!r}")
        try:
            fields = {k: FieldSpec(str(v["dtype"]), tuple(int(n) for n in v["shape"]))
                      for k, v in obj["fields"].items()}
            shards = tuple(Shard(str(s["file"]), int(s["rows"])) for s in obj["shards"])
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise DatasetError(f"{path}: malformed 'fields' or 'shards' ({e!r}); expected "
                               '{name: {"dtype": str, "shape": [int]}} and '
                               '[{"file": str, "rows": int}]') from e
        env = obj["env"]
        want = sorted(FIELDS if env is not None else REQUIRED)
        if sorted(fields) != want:
            raise DatasetError(f"{path}: field 'fields' lists {sorted(fields)}, expected {want} "
                               f"for env {env!r}")
        return cls(env=env, tasks=tuple(obj["tasks"]), collection=obj.get("collection") or {},
                   seed=obj.get("seed"), fields=fields, shards=shards,
                   fbjax_version=obj.get("fbjax_version", "unknown"))


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A loaded dataset: every stored field (N rows each) and its manifest. `next_physics` is the
    simulator state of s' that relabelling reads; None for data without a simulator."""

    obs: np.ndarray
    action: np.ndarray
    next_obs: np.ndarray
    terminal: np.ndarray
    start: np.ndarray
    next_physics: np.ndarray | None
    manifest: Manifest

    @property
    def rows(self) -> int:
        return len(self.obs)

    @property
    def obs_dim(self) -> int:
        return int(self.obs.shape[1])

    @property
    def action_dim(self) -> int:
        return int(self.action.shape[1])

    def arrays(self) -> dict[str, np.ndarray]:
        """The stored fields by name (next_physics only where it is stored)."""
        return {k: getattr(self, k) for k in FIELDS if getattr(self, k) is not None}

    def transitions(self) -> Transition:
        """The fields FB trains on, as float32 host arrays (integer actions stay int32)."""
        action = np.asarray(self.action, np.int32 if self.action.ndim == 1 else np.float32)
        return Transition(obs=np.asarray(self.obs, np.float32), action=action,
                          **{k: np.asarray(getattr(self, k), np.float32)
                             for k in ("next_obs", "terminal", "start")})


def _field_specs(arrays: dict[str, np.ndarray]) -> dict[str, FieldSpec]:
    return {k: FieldSpec.of(v) for k, v in arrays.items()}


def _stored(arrays) -> tuple[str, ...]:
    """The fields a dataset stores: all of FIELDS, or REQUIRED when it has no simulator state."""
    return FIELDS if "next_physics" in arrays else REQUIRED


def _check_arrays(arrays: dict[str, np.ndarray], where: str,
                  specs: dict[str, FieldSpec] | None = None) -> int:
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
            if FieldSpec.of(value) != want:
                raise DatasetError(
                    f"{where}: field {name!r} is {value.dtype}{list(value.shape[1:])} per row, "
                    f"the manifest says {want.dtype}{list(want.shape)}")
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


def _write_shard(directory: str, index: int, arrays: dict[str, np.ndarray]) -> Shard:
    name = f"shard_{index:05d}.npz"

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **{k: arrays[k] for k in _stored(arrays)})

    _atomic_write(os.path.join(directory, name), write)
    return Shard(name, _check_arrays(arrays, directory))


def _write_manifest(directory: str, manifest: Manifest) -> None:
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(manifest.to_json(), f, indent=2)

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
    manifest = Manifest(env=env, tasks=tuple(tasks), collection=collection, seed=seed,
                        fields=_field_specs({k: arrays[k] for k in _stored(arrays)}))
    _write_manifest(directory, manifest.with_shard(_write_shard(directory, 0, arrays)))


def append_dataset(directory: str, arrays: dict[str, np.ndarray]) -> None:
    """Adds the rows of `arrays` as a new shard (same fields, dtypes and shapes)."""
    manifest = read_manifest(directory)
    arrays = {k: np.asarray(arrays[k]) for k in arrays}
    _check_arrays(arrays, f"append_dataset({directory})", manifest.fields)
    shard = _write_shard(directory, len(manifest.shards), arrays)
    _write_manifest(directory, manifest.with_shard(shard))  # only part of the dataset once listed


def read_manifest(directory: str) -> Manifest:
    path = os.path.join(directory, MANIFEST)
    if not os.path.exists(path):
        raise DatasetError(f"{path}: no manifest; is {directory} an fbjax dataset?")
    try:
        with open(path) as f:
            obj = json.load(f)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: not valid JSON ({e})") from e
    return Manifest.from_json(obj, path)


def load_dataset(directory: str, domain: str | None = None) -> Dataset:
    """The dataset in `directory` (fields and manifest), checked against its domain: the
    manifest's `env` must be a domain fbjax knows (built in or `fbjax.envs.register`ed), equal
    to `domain` when one is given, and every field must have that domain's per-row size; so a
    dataset of one domain labelled as another is refused here, before its physics is relabelled
    with the wrong domain's rewards. `read_dataset` reads the files without the domain check."""
    dataset = read_dataset(directory)
    check_domain(dataset, directory, domain)
    return dataset


def check_domain(dataset: Dataset, where: str, domain_name: str | None = None) -> None:
    """The dataset's per-row shapes and task list against its domain (the manifest's `env`, which
    must equal `domain_name` when one is given): a dataset of one domain labelled as another with
    the same physics size is refused here, not at a parameter-shape error later."""
    import fbjax.envs as envs

    check_env(dataset.manifest, where, domain_name)
    env = dataset.manifest.env
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
        got = getattr(dataset, field).shape[1:]
        if got != (size,):
            raise DatasetError(
                f"{where}: field {field!r} has per-row shape {tuple(got)}, but domain {env!r} "
                f"has {field} size {size}; is the dataset from another domain than its manifest "
                "says?")
    tasks = list(dataset.manifest.tasks)
    unknown = [t for t in tasks if t not in domain.task_names]
    if unknown:
        raise DatasetError(f"{where}: manifest tasks {unknown} are not tasks of {env!r} "
                           f"({list(domain.task_names)})")


def check_env(manifest: Manifest, where: str, domain_name: str | None = None) -> None:
    """The manifest's `env` against the config's domain (when one is given): a dataset of
    another domain, or one without a simulator, is refused with what to do instead."""
    env = manifest.env
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


def read_dataset(directory: str) -> Dataset:
    """All shards concatenated, validated against the manifest (fields, dtypes, row counts, no
    NaN), without the domain check of `load_dataset`."""
    manifest = read_manifest(directory)
    parts = []
    for shard in manifest.shards:
        path = os.path.join(directory, shard.file)
        try:
            with np.load(path) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except FileNotFoundError as e:
            raise DatasetError(f"{path}: listed in the manifest but missing") from e
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
            raise DatasetError(f"{path}: unreadable, truncated or corrupt ({e})") from e
        rows = _check_arrays(arrays, path, manifest.fields)
        if rows != shard.rows:
            raise DatasetError(f"{path}: {rows} rows, the manifest says {shard.rows}")
        parts.append(arrays)
    if not parts:
        raise DatasetError(f"{directory}: the manifest lists no shards")
    fields = {k: np.concatenate([p[k] for p in parts]) for k in manifest.fields}
    next_physics = fields.pop("next_physics", None)
    return Dataset(**fields, next_physics=next_physics, manifest=manifest)


def _source(manifest: Manifest) -> str:
    where = manifest.collection.get("path")
    return f"from {manifest.source or 'outside fbjax'}" + (f" {where}" if where else "")
