"""Orbax checkpoints of the full training state, plus the run's config as JSON."""

import json
import os
from typing import Any

import jax
import orbax.checkpoint as ocp

CONFIG_FILE = "config.json"


class Checkpointer:
    """Saves `state` (any pytree of arrays) and a JSON `meta` dict per step under `directory`;
    the run's config sits beside the steps in `config.json`. Saves are atomic (orbax writes to a
    temporary folder and renames it) and the last `max_to_keep` steps are kept."""

    def __init__(self, directory: str, max_to_keep: int | None = 3):
        self.directory = os.path.abspath(directory)  # orbax needs absolute paths
        options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                               enable_async_checkpointing=False)
        self._manager = ocp.CheckpointManager(self.directory, options=options,
                                              item_names=("state", "meta"))

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        return list(self._manager.all_steps())

    def write_config(self, config: dict[str, Any]) -> None:
        if jax.process_index() != 0:
            return
        path = os.path.join(self.directory, CONFIG_FILE)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(config, f, indent=2, sort_keys=True)
        os.replace(tmp, path)

    def read_config(self) -> dict[str, Any]:
        return read_config(self.directory)

    def save(self, step: int, state: Any, meta: dict[str, Any] | None = None) -> None:
        args = ocp.args.Composite(state=ocp.args.StandardSave(state),
                                  meta=ocp.args.JsonSave(meta or {}))
        self._manager.save(step, args=args, force=True)
        self._manager.wait_until_finished()

    def restore(self, abstract_state: Any, step: int | None = None) -> tuple[Any, dict]:
        """Restores into the structure of `abstract_state` (e.g. a freshly initialised state or
        `jax.eval_shape` of it); returns (state, meta)."""
        step = self.latest_step() if step is None else step
        if step is None:
            raise FileNotFoundError(f"no checkpoint under {self.directory}")
        if step not in self.all_steps():
            raise FileNotFoundError(f"no checkpoint for step {step} under {self.directory}; "
                                    f"available: {self.all_steps()}")
        target = jax.tree.map(ocp.utils.to_shape_dtype_struct, abstract_state)
        args = ocp.args.Composite(state=ocp.args.StandardRestore(target),
                                  meta=ocp.args.JsonRestore())
        restored = self._manager.restore(step, args=args)
        return restored.state, dict(restored.meta)

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
