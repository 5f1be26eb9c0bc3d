"""A check a user can run on a dataset: the files and the domain check that `load_dataset` (and so
every pipeline stage) applies.

  python -m fbjax.data.validate runs/point_mass/dataset

Prints one line "OK: ..." and exits 0, or prints what is wrong and exits 1.
"""

import os
import sys

from fbjax.data.store import MANIFEST, load_dataset


def validate_dataset(path: str) -> str:
    dataset = load_dataset(path)
    what = (dataset.manifest.env
            or "no simulator (next_physics not stored; the MJX pipeline refuses it)")
    return (f"OK: {path} holds {dataset.rows:,} transitions of {what} "
            f"({len(dataset.manifest.shards)} shard(s))")


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
