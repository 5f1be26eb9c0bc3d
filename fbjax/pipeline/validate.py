"""A check a user can run on anything fbjax wrote: a dataset, a training run, or a whole workdir.

  python -m fbjax.pipeline.validate runs/point_mass                 # everything under it
  python -m fbjax.pipeline.validate runs/point_mass/fb/seed_0       # one training run
  python -m fbjax.pipeline.validate runs/point_mass/dataset         # one dataset

A dataset is loaded and checked against its manifest and its domain; a training run must have a
readable config.json and checkpoints that read back whole and match the digest saved with them;
an evaluation's results.json must parse. Prints one line per thing found, then "OK: ..." and
exits 0, or exits 1 when anything is wrong.
"""

import json
import os
import sys

from fbjax.data.store import MANIFEST
from fbjax.data.validate import validate_dataset
from fbjax.train.checkpoint import CONFIG_FILE, CORRUPT_DIR, Checkpointer, read_config

RESULTS = "results.json"


def validate_run(path: str) -> tuple[bool, str]:
    """(ok, one line) for a training-run directory."""
    try:
        config = read_config(path)
    except (FileNotFoundError, ValueError) as e:
        return False, str(e)
    checkpointer = Checkpointer(path, max_to_keep=None)
    try:
        steps = checkpointer.all_steps()
        problems = {s: p for s in steps if (p := checkpointer.check(s)) is not None}
    finally:
        checkpointer.close()
    if not steps:
        return False, f"{path}: a run directory (config.json) with no checkpoint"
    notes = []
    leftovers = [n for n in os.listdir(path) if ".orbax-checkpoint-tmp" in n]
    if leftovers:
        notes.append(f"{len(leftovers)} temporary folder(s) of an interrupted save, removed "
                     "when the run resumes")
    if os.path.isdir(os.path.join(path, CORRUPT_DIR)):
        notes.append(f"earlier corrupt checkpoint(s) set aside in {CORRUPT_DIR}/ "
                     f"{sorted(os.listdir(os.path.join(path, CORRUPT_DIR)))}")
    suffix = f" ({'; '.join(notes)})" if notes else ""
    trained = config.get("train", {}).get("num_steps")
    if problems:
        bad = "; ".join(f"step {s}: {p}" for s, p in problems.items())
        good = [s for s in steps if s not in problems]
        return False, (f"{path}: damaged checkpoint(s) {bad}. Intact: {good or 'none'}; a resume "
                       f"falls back to the latest intact one{suffix}")
    return True, (f"OK: {path} is a run (seed {config.get('seed')}, {trained} steps configured) "
                  f"with intact checkpoints at steps {steps}{suffix}")


def validate_results(path: str) -> tuple[bool, str]:
    try:
        with open(path) as f:
            results = json.load(f)
    except (OSError, ValueError) as e:
        return False, f"{path}: unreadable or not JSON ({type(e).__name__}: {e})"
    if isinstance(results, dict) and isinstance(results.get("rows"), list):
        return True, f"OK: {path} holds {len(results['rows'])} result rows"
    return True, f"OK: {path} is valid JSON"


def validate(path: str) -> list[tuple[bool, str]]:
    """(ok, line) for every dataset, run and results file at or under `path`."""
    if not os.path.exists(path):
        return [(False, f"{path}: no such file or directory")]
    if os.path.isfile(path):
        if os.path.basename(path) == RESULTS:
            return [validate_results(path)]
        return [(False, f"{path}: a file; give a dataset, run or workdir folder")]
    if os.path.exists(os.path.join(path, MANIFEST)):
        try:
            return [(True, validate_dataset(path))]
        except Exception as e:  # report, do not trace: this is a checker
            return [(False, f"{type(e).__name__}: {e}")]
    if os.path.exists(os.path.join(path, CONFIG_FILE)):
        return [validate_run(path)]
    found = []
    for name in sorted(os.listdir(path)):
        child = os.path.join(path, name)
        if name == RESULTS:
            found.append(validate_results(child))
        elif name.endswith(".partial"):
            found.append((True, f"note: {child} is an unfinished collection; the next collect "
                                "starts it again"))
        elif os.path.isdir(child) and name != CORRUPT_DIR:
            found += [r for r in validate(child) if "nothing fbjax wrote" not in r[1]]
    return found or [(False, f"{path}: nothing fbjax wrote (no dataset manifest, run "
                             f"{CONFIG_FILE} or {RESULTS}) at or under it")]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m fbjax.pipeline.validate PATH  (a dataset, run or workdir)")
        return 2
    results = validate(argv[0])
    for _, line in results:
        print(line)
    bad = sum(not ok for ok, _ in results)
    if bad:
        print(f"FAILED: {bad} of {len(results)} checked item(s) under {argv[0]} have problems")
        return 1
    if len(results) > 1:
        print(f"OK: all {len(results)} item(s) under {argv[0]} are intact")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
