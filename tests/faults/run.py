"""The fault-injection runner: every fault of tests/faults/ (injection.py: processes, disk.py,
inputs.py) at full size, counts printed as JSON and the whole record (every case with its
message) written with provenance.

  python -m tests.faults.run                       # 20 kill points, 200k-update soak (~25 min)
  python -m tests.faults.run --kill_points 2 --soak_steps 5000 --out /tmp/faults.json  # a taste

Run from the repository root. The suite's fast cases also run in CI (tests/faults/test_faults.py).
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

from tests.faults import disk, inputs
from tests.faults import injection as inj

STAGE_ORDER = ("collect", "train", "evaluate", "oracle", "report")


def _counts(cases, key="ok"):
    tried = [c for c in cases if c.get(key) is not None]
    return {"passed": sum(bool(c[key]) for c in tried), "tried": len(tried)}


def kill_sweep(root, points: int, seed: int, reference, durations) -> list[dict]:
    """`points` kill points spread round-robin over the stages, each at a uniformly random delay
    into its stage (up to the stage's duration in an uninterrupted run). A point whose run
    finished before the kill is retried at half the delay (at most three times)."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(points):
        stage = STAGE_ORDER[i % len(STAGE_ORDER)]
        delay = float(rng.uniform(0, durations.get(stage, 1.0)))
        for _ in range(3):
            case = inj.kill_point(os.path.join(root, f"kill_{i:02d}"), stage, delay, reference)
            if case["killed"]:
                break
            delay /= 2
        print(f"[faults] kill point {i + 1}/{points}: {stage} +{case['delay_s']}s -> "
              f"{'ok' if case['ok'] else 'FAILED' if case['ok'] is False else 'not killed'}",
              flush=True)
        cases.append(case)
    return cases


def _reference(root):
    """An uninterrupted reference run, then a second one for stage timings: (the reference's
    outcome, stage durations, the record's reference section)."""
    print("[faults] uninterrupted reference run, then a second one for stage timings", flush=True)
    code, _, lines, _ = inj.timed_run(os.path.join(root, "reference"))
    if code != 0:
        print("\n".join(lines[-40:]))
        raise SystemExit("the uninterrupted reference pipeline failed")
    reference = inj.outcome(os.path.join(root, "reference"))
    code, seen, _, _ = inj.timed_run(os.path.join(root, "reference_again"))
    durations = inj.stage_durations(seen)
    again = code == 0 and inj.outcome(os.path.join(root, "reference_again")) == reference
    return reference, durations, {
        "stage_seconds": {k: round(v, 2) for k, v in durations.items()},
        "second_run_identical": again}


def _file_and_input_faults(root, reference) -> dict:
    """Corrupted checkpoints (alone and in the reference pipeline), ENOSPC, locks, bad inputs."""
    print("[faults] corrupted checkpoints", flush=True)
    corrupt = disk.corrupt_cases(os.path.join(root, "corrupt"))
    in_pipeline = disk.corrupt_in_pipeline(os.path.join(root, "reference_again"), reference)
    record = {"corrupted_checkpoints": {
        **_counts(corrupt + in_pipeline),
        "fell_back_to_previous": sum(c.get("restored_step") == 1 for c in corrupt),
        "damage_outside_the_values_read": sum(c.get("restored_step") == 2 for c in corrupt),
        "cases": corrupt, "in_pipeline": in_pipeline}}
    print("[faults] ENOSPC, locks, bad inputs", flush=True)
    enospc = disk.enospc_cases(os.path.join(root, "enospc"), inj.monkeypatch_context)
    record["enospc"] = {**_counts(enospc), "cases": enospc}
    locks = inj.lock_cases(os.path.join(root, "lock"))
    locks.append(inj.two_pipelines(os.path.join(root, "two_pipelines"), reference))
    record["locks"] = {**_counts(locks), "cases": locks}
    bad = inputs.bad_inputs(os.path.join(root, "bad_inputs"))
    record["bad_inputs"] = {"refused_clearly": sum(c["ok"] for c in bad), "tried": len(bad),
                            "cases": bad}
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kill_points", type=int, default=20)
    parser.add_argument("--soak_steps", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0, help="draws the kill delays")
    parser.add_argument("--out", default=os.path.join(inj.ROOT, "experiments", "results",
                                                      "faults.json"))
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temp dir)")
    args = parser.parse_args(argv)
    root = args.workdir or tempfile.mkdtemp(prefix="fbjax_faults_")
    began = time.perf_counter()
    record = {}

    reference, durations, record["reference"] = _reference(root)
    kills = kill_sweep(root, args.kill_points, args.seed, reference, durations)
    by_stage = {s: _counts([c for c in kills if c["stage"] == s]) for s in STAGE_ORDER}
    record["kill_points"] = {**_counts(kills), "by_stage": by_stage, "cases": kills}
    record.update(_file_and_input_faults(root, reference))
    print("[faults] one of two processes killed", flush=True)
    hosts = [inj.multihost_kill(os.path.join(root, f"multihost_{v}"), v) for v in (1, 0)]
    record["multihost_kill"] = {**_counts(hosts), "bound_s": 60, "cases": hosts}
    print(f"[faults] soak: {args.soak_steps} updates", flush=True)
    record["soak"] = inj.soak_in_subprocess(os.path.join(root, "soak"), args.soak_steps)
    record["seconds"] = round(time.perf_counter() - began, 1)
    from fbjax.provenance import provenance
    command = "python -m tests.faults.run " + " ".join(argv if argv is not None else sys.argv[1:])
    record = {"provenance": provenance(command.strip()), **record}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(record, f, indent=1)
    counts = {k: {c: v for c, v in section.items() if not isinstance(v, list | dict) or
                  c == "by_stage"}
              for k, section in record.items() if isinstance(section, dict) and k not in
              ("provenance", "soak")}
    counts["soak"] = {k: v for k, v in record["soak"].items() if k != "curve"}
    counts["seconds"] = record["seconds"]
    print(json.dumps(counts, indent=1))
    failed = [k for k, section in counts.items() if isinstance(section, dict) and (
        section.get("passed", section.get("refused_clearly")) != section.get("tried")
        or section.get("ok") is False or section.get("second_run_identical") is False)]
    print(f"[faults] written to {args.out}; " + (f"FAILED: {failed}" if failed else "all held"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
