"""A check a user can run on a dataset, and the domain check every pipeline stage applies to the
dataset it loads.

  python -m fbjax.data.validate runs/point_mass/dataset

Prints one line "OK: ..." and exits 0, or prints what is wrong and exits 1.
"""

import os
import sys
from typing import Any

import numpy as np

from fbjax.data.store import MANIFEST, DatasetError, load_dataset


def check_domain(arrays: dict[str, np.ndarray], manifest: dict[str, Any], where: str,
                 domain_name: str | None = None) -> None:
    """The dataset's per-row shapes and task list against its domain (the manifest's `env`, which
    must equal `domain_name` when one is given): a dataset of one domain labelled as another with
    the same physics size is refused here, not at a parameter-shape error later."""
    import fbjax.envs as envs

    env = manifest["env"]
    if domain_name is not None and env != domain_name:
        raise DatasetError(f"{where}: the manifest says env {env!r}, but the config's domain is "
                           f"{domain_name!r}")
    try:
        domain = envs.make(env)
    except (KeyError, ValueError) as e:
        raise DatasetError(f"{where}: manifest env {env!r} is not a domain fbjax knows ({e})") \
            from e
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


def validate_dataset(path: str) -> str:
    arrays, manifest = load_dataset(path)
    check_domain(arrays, manifest, path)
    return (f"OK: {path} holds {len(arrays['obs']):,} transitions of {manifest['env']} "
            f"({len(manifest['shards'])} shard(s))")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m fbjax.data.validate DATASET_DIR")
        return 2
    path = argv[0]
    try:
        if not os.path.exists(os.path.join(path, MANIFEST)):
            print(f"{path}: not a dataset (no {MANIFEST}); for a training run or a whole "
                  "workdir, run python -m fbjax.pipeline.validate PATH")
            return 1
        print(validate_dataset(path))
    except Exception as e:  # report, do not trace: this is a checker
        print(f"{type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
