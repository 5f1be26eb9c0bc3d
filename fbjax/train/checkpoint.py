"""Orbax checkpoints of the full training state, plus the run's config as JSON.

Every checkpoint carries a digest of its state (in its JSON meta). A restore checks it, so a
checkpoint that was truncated, corrupted or half-written on disk is never used silently: the
latest intact one is restored instead, with a message, and the bad one is moved to
DIR/corrupt/<step> (kept for inspection, out of the way of the step that will be saved again).
"""

import hashlib
import json
import logging
import os
import shutil
import sys
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from etils import epath

CONFIG_FILE = "config.json"
CORRUPT_DIR = "corrupt"


class CheckpointError(RuntimeError):
    """A checkpoint could not be written, or no intact one could be read."""


def _is_closed_loop_echo(unraisable) -> bool:
    value = unraisable.exc_value
    return isinstance(value, RuntimeError) and str(value) == "Event loop is closed"


def _not_unretrieved_task(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("Task exception was never retrieved")


def _quiet_failed_reads() -> None:
    """After orbax fails to read a damaged checkpoint, tensorstore's pending callbacks find
    orbax's event loop closed and print hundreds of 'Event loop is closed' tracebacks (as
    unraisable exceptions) and asyncio logs 'Task exception was never retrieved'. Both are the
    echo of a failure this module has already reported in one line; drop them, and only them,
    for the rest of the process. Installed before every read, not after a failed one: the
    first echoes can arrive while orbax is still unwinding the failed read."""
    asyncio_log = logging.getLogger("asyncio")
    if _not_unretrieved_task not in asyncio_log.filters:
        asyncio_log.addFilter(_not_unretrieved_task)
    if getattr(sys.unraisablehook, "_fbjax_quiet", False):
        return
    previous = sys.unraisablehook

    def hook(unraisable):
        if not _is_closed_loop_echo(unraisable):
            previous(unraisable)

    hook._fbjax_quiet = True
    sys.unraisablehook = hook


def state_digest(state: Any) -> str | None:
    """A digest of a pytree's values, independent of how the tree is nested (a restore without
    a target gives dicts where the state had dataclasses): the sorted per-leaf hashes of dtype,
    shape and bytes. None when a leaf is not fully held by this process."""
    hashes = []
    for leaf in jax.tree.leaves(state):
        if isinstance(leaf, jax.Array):
            if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
                leaf = jax.random.key_data(leaf)
            if not (leaf.is_fully_addressable or leaf.is_fully_replicated):
                return None
            leaf = leaf.addressable_data(0)
        value = np.ascontiguousarray(np.asarray(leaf))
        h = hashlib.sha256(f"{value.dtype.str}{value.shape}".encode())
        h.update(value.tobytes())
        hashes.append(h.hexdigest())
    return hashlib.sha256("".join(sorted(hashes)).encode()).hexdigest()


class Checkpointer:
    """Saves `state` (any pytree of arrays) and a JSON `meta` dict per step under `directory`;
    the run's config sits beside the steps in `config.json`. Saves are atomic (orbax writes to a
    temporary folder and renames it) and the last `max_to_keep` steps are kept. A writer
    (`cleanup=True`) first deletes temporary folders an interrupted save left behind."""

    def __init__(self, directory: str, max_to_keep: int | None = 3, cleanup: bool = False):
        self.directory = os.path.abspath(directory)  # orbax needs absolute paths
        options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                               enable_async_checkpointing=False,
                                               cleanup_tmp_directories=cleanup)
        self._manager = ocp.CheckpointManager(self.directory, options=options,
                                              item_names=("state", "meta"))

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        return sorted(self._manager.all_steps())

    def write_config(self, config: dict[str, Any]) -> None:
        if jax.process_index() != 0:
            return
        path = os.path.join(self.directory, CONFIG_FILE)
        tmp = path + ".tmp"
        try:
            with open(tmp, "w") as f:
                json.dump(config, f, indent=2, sort_keys=True)
            os.replace(tmp, path)
        except OSError as e:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise CheckpointError(f"writing {path} failed ({e}); the previous {CONFIG_FILE}, "
                                  "if any, is unchanged") from e

    def read_config(self) -> dict[str, Any]:
        return read_config(self.directory)

    def save(self, step: int, state: Any, meta: dict[str, Any] | None = None) -> None:
        meta = {**(meta or {}), "digest": state_digest(state)}
        args = ocp.args.Composite(state=ocp.args.StandardSave(state),
                                  meta=ocp.args.JsonSave(meta))
        try:
            self._manager.save(step, args=args, force=True)
            self._manager.wait_until_finished()
        except Exception as e:  # orbax wraps OS errors (ENOSPC, EIO) in its own types
            previous = [s for s in self.all_steps() if s != step]
            raise CheckpointError(
                f"saving the checkpoint of step {step} under {self.directory} failed "
                f"({type(e).__name__}: {e}); the earlier checkpoints {previous} are untouched "
                "(orbax writes to a temporary folder first)") from e

    def restore(self, abstract_state: Any, step: int | None = None, *,
                upgrade: Callable[[Any], tuple[Any, Callable] | None] | None = None
                ) -> tuple[Any, dict]:
        """Restores into the structure of `abstract_state` (e.g. a freshly initialised state or
        `jax.eval_shape` of it); returns (state, meta).

        `upgrade(abstract_state)`, where given, names an older layout of the same state and its
        conversion, (older_state, convert): an intact checkpoint that does not fit
        `abstract_state` but fits `older_state` is read in that layout, checked against its
        digest, and returned as `convert(read)` (`FBAgent.older_checkpoint_layout`).

        Without `step`, the latest intact checkpoint: one that cannot be read or whose values do
        not match their saved digest is reported, moved to DIR/corrupt/<step>, and the one
        before it is tried. An explicit `step` is restored or refused, never replaced."""
        if step is not None:
            if step not in self.all_steps():
                raise FileNotFoundError(f"no checkpoint for step {step} under {self.directory}; "
                                        f"available: {self.all_steps()}")
            state, meta, problem = self._try_restore(abstract_state, step, upgrade)
            if problem:
                raise CheckpointError(f"checkpoint step {step} under {self.directory} is "
                                      f"unusable: {problem}")
            return state, meta
        if self.latest_step() is None:
            raise FileNotFoundError(f"no checkpoint under {self.directory}")
        failures = []
        for candidate in reversed(self.all_steps()):
            state, meta, problem = self._try_restore(abstract_state, candidate, upgrade)
            if not problem:
                if failures:
                    print(f"checkpoint: restored step {candidate} under {self.directory} "
                          "instead", file=sys.stderr, flush=True)
                return state, meta
            failures.append(f"step {candidate}: {problem}")
            print(f"checkpoint: step {candidate} under {self.directory} is corrupt or "
                  f"incomplete; moving it to {CORRUPT_DIR}/ and falling back to the one before. "
                  f"What is wrong: {problem}", file=sys.stderr, flush=True)
            self._quarantine(candidate)
        raise CheckpointError(f"no intact checkpoint under {self.directory}: "
                              + "; ".join(failures))

    def _try_restore(self, abstract_state, step, upgrade=None) -> tuple[Any, dict, str | None]:
        """(state, meta, None), or (None, None, what is wrong with the files) when the
        checkpoint itself is damaged. An error that comes from `abstract_state` not matching an
        intact checkpoint (a caller's mistake, not damage) is raised, unless the checkpoint fits
        the older layout `upgrade` names."""
        _quiet_failed_reads()
        convert = None
        try:
            restored = self._read(abstract_state, step)
        except Exception as e:  # noqa: BLE001 - decided below: damage or caller's mistake
            damage = self.check(step)
            if damage is not None:
                return None, None, damage
            restored, convert = self._read_older_layout(abstract_state, step, upgrade, e)
        meta = dict(restored.meta)
        saved = meta.pop("digest", None)
        if saved is not None and state_digest(restored.state) not in (saved, None):
            return None, None, "its values do not match the digest saved with them"
        return (restored.state if convert is None else convert(restored.state)), meta, None

    def _read(self, abstract_state, step):
        target = jax.tree.map(ocp.utils.to_shape_dtype_struct, abstract_state)
        return self._manager.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(target), meta=ocp.args.JsonRestore()))

    def _read_older_layout(self, abstract_state, step, upgrade, error):
        """(what was read, its conversion) of intact checkpoint `step` in the older layout
        `upgrade(abstract_state)` names; CheckpointError naming `error` where there is none or
        the checkpoint does not fit it either."""
        older = None if upgrade is None else upgrade(abstract_state)
        if older is not None:
            older_state, convert = older
            try:
                restored = self._read(older_state, step)
            except Exception:  # noqa: BLE001 - it fits neither layout: the error below
                restored = None
            if restored is not None:
                print(f"checkpoint: step {step} under {self.directory} has an older fbjax's "
                      "layout of the state; read in that layout and converted",
                      file=sys.stderr, flush=True)
                return restored, convert
        raise CheckpointError(f"checkpoint step {step} under {self.directory} is intact "
                              f"but does not fit the state it is restored into "
                              f"({type(error).__name__}: {error})") from error

    def check(self, step: int) -> str | None:
        """None when checkpoint `step` reads back whole and matches its digest, else what is
        wrong. Needs no target state (what the validator uses)."""
        _quiet_failed_reads()
        try:
            # The saved shapes and dtypes, read onto this process's first device (a sharded
            # run's checkpoint is read whole, whatever mesh wrote it).
            saved = ocp.StandardCheckpointHandler().metadata(
                epath.Path(self.directory) / str(step) / "state")
            one = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
            target = jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype, sharding=one),
                                  saved, is_leaf=lambda m: hasattr(m, "shape"))
            args = ocp.args.Composite(state=ocp.args.StandardRestore(target),
                                      meta=ocp.args.JsonRestore())
            restored = self._manager.restore(step, args=args)
        except Exception as e:  # noqa: BLE001 - any failure to read is damage here
            return f"unreadable ({type(e).__name__}: {str(e)[:300]})"
        saved = dict(restored.meta or {}).get("digest")
        if saved is not None and state_digest(restored.state) != saved:
            return "its values do not match the digest saved with them"
        return None

    def _quarantine(self, step: int) -> None:
        if jax.process_index() == 0:
            target = os.path.join(self.directory, CORRUPT_DIR, str(step))
            shutil.rmtree(target, ignore_errors=True)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(os.path.join(self.directory, str(step)), target)
        if jax.process_count() > 1:
            from jax.experimental import multihost_utils
            multihost_utils.sync_global_devices(f"fbjax checkpoint quarantine {step}")
        self._manager.reload()

    def close(self) -> None:
        self._manager.close()


def read_config(directory: str) -> dict[str, Any]:
    path = os.path.join(os.path.abspath(directory), CONFIG_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no {CONFIG_FILE}; is {directory} a fbjax run folder?")
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON ({e})") from e
