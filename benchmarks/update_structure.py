"""The FB update's program structure before and after a change, measured in one run: fusions and
kernels per update, XLA's bytes accessed and FLOPs per update, and updates/s, for the main
command's config and the full-size walker config, each measured alternately on two checkouts.

  python benchmarks/update_structure.py --baseline=/tmp/base     # a worktree of the old commit
  python benchmarks/update_structure.py --baseline=/tmp/base --configs=point_mass_maze \
      --rounds=3 --steps=50

Each (checkout, config, round) runs in its own process with that checkout first on sys.path, so
both are compiled by the same JAX on the same machine in the same run; rounds alternate between
them so that drift in the machine's speed falls on both. Prints one JSON line per process and a
summary line per config (medians of updates/s over rounds, ratios after / before).

What is counted, for one update as training runs it (`fbjax.agent.train_steps` of one step,
which XLA compiles without a loop: the update, its random draws and its batch's gather):
* fusions: XLA fusion instructions in the optimised HLO;
* kernels: every instruction that runs as its own operation (fusions, library matmuls, copies,
  loops, sorts, ...), counted once per computation that runs them: instructions of the entry
  computation and of loop bodies and conditions (on a CPU JAX draws random numbers in rolled
  loops), not those inside fusions or reducers, and not parameters, constants, tuples and
  bitcasts, which move no data;
* bytes: XLA's cost analysis of the compiled program ("bytes accessed": each operation's operands
  and results);
* FLOPs: the cost analysis of the lowered (not yet optimised) program, the same on every device.
The loop body of a `steps`-update scan is counted too (fusions_ and kernels_in_scan_body): what
repeats per update in training, where the batch rows are drawn before the loop (in the new code).
"""

import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import time

import trace_summary
from profile_update import CONFIGS, _fb_config, _timed_calls, cost_of, random_dataset

MEASURED = ("point_mass_maze", "walker")
BATCH = {"walker": 1024}  # the full-size update's reference batch; others keep their config's
_NO_DATA = {"parameter", "constant", "tuple", "get-tuple-element", "bitcast"}
_CALLEES = re.compile(r"(?:condition|body|to_apply|true_computation|false_computation)="
                      r"%?([\w.\-]+)")


def kernel_counts(hlo_text: str, only_loop_bodies: bool = False) -> dict:
    """Fusions and kernels (see the module docstring) of an optimised HLO module's text; with
    `only_loop_bodies`, those of the outermost while loop's body and what it runs."""
    computations = trace_summary.instructions(hlo_text)

    def runs(name):  # computations whose instructions run as kernels, from `name` down
        found = [name]
        for _, opcode, line in computations.get(name, ()):
            if opcode in ("while", "call", "conditional"):
                branches = re.search(r"branch_computations=\{([^}]*)\}", line)
                callees = _CALLEES.findall(line)
                callees += re.findall(r"%?([\w.\-]+)", branches.group(1)) if branches else []
                for callee in callees:
                    found += runs(callee)
        return found

    start = re.search(r"^ENTRY\s+%?([\w.\-]+)", hlo_text, re.MULTILINE).group(1)
    if only_loop_bodies:
        loops = [re.search(r"body=%?([\w.\-]+)", line).group(1)
                 for body in computations.values() for _, opcode, line in body
                 if opcode == "while"]
        start = max(loops, key=lambda body: len(computations[body]))
    kinds = collections.Counter(opcode for name in dict.fromkeys(runs(start))
                                for _, opcode, _ in computations[name] if opcode not in _NO_DATA)
    return {"fusions": kinds["fusion"], "kernels": sum(kinds.values()),
            "kernels_by_op": dict(kinds.most_common())}


def measure(name: str, steps: int, repeats: int, compute_dtype: str) -> dict:
    """One process's figures for config NAME with whatever fbjax is first on sys.path."""
    import jax

    import fbjax
    from fbjax.agent import train_steps
    from fbjax.fb import FBAgent

    obs_dim, action_dim = CONFIGS[name]
    config = _fb_config(name, BATCH.get(name), compute_dtype)
    agent, data = FBAgent(config, obs_dim, action_dim), random_dataset(obs_dim, action_dim)
    state, key = agent.init(jax.random.PRNGKey(0)), jax.random.PRNGKey(1)

    lowered = jax.jit(lambda s, k: train_steps(agent, s, data, k, 1)).lower(state, key)
    compiled = lowered.compile()
    run = jax.jit(lambda s, k: train_steps(agent, s, data, k, steps), donate_argnums=0)
    began = time.perf_counter()
    scan = run.lower(state, key).compile()
    compile_s = time.perf_counter() - began
    _, times = _timed_calls(scan, state, repeats)
    return {"benchmark": "update_structure", "config": name, "batch": config.batch_size,
            "compute_dtype": compute_dtype, "fbjax_from": os.path.dirname(
                os.path.dirname(os.path.abspath(fbjax.__file__))),
            **kernel_counts(compiled.as_text()),
            **{f"{k}_in_scan_body": v for k, v in kernel_counts(scan.as_text(), True).items()
               if k != "kernels_by_op"},
            "mbytes_per_update": round(cost_of(compiled, "bytes accessed") / 2**20, 2),
            "gflop_per_update": round(cost_of(lowered) / 1e9, 4),
            "steps_per_call": steps, "compile_s": round(compile_s, 2),
            "updates_per_s": round(steps / min(times), 2),
            "updates_per_s_all": [round(steps / t, 2) for t in times],
            "device": jax.devices()[0].device_kind, "jax": jax.__version__}


def _run(code: str, name: str, args) -> dict:
    """`measure` in a fresh process with checkout `code` first on sys.path."""
    cmd = [sys.executable, os.path.abspath(__file__), "--one", name, f"--steps={args.steps}",
           f"--repeats={args.repeats}", f"--compute_dtype={args.compute_dtype}"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [code, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    out = subprocess.run(cmd, env=env, cwd=code, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"update_structure: {name} in {code} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=False, help="checkout of the code before")
    parser.add_argument("--current", default=os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), help="checkout of the code after (default: this one)")
    parser.add_argument("--configs", default=",".join(MEASURED),
                        help=f"comma-separated, of {sorted(CONFIGS)}")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compute_dtype", default="float32", choices=("float32", "bfloat16"))
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.steps, args.repeats, args.compute_dtype)))
        return
    checkouts = {"before": args.baseline, "after": args.current} if args.baseline else \
        {"after": args.current}
    for name in args.configs.split(","):
        rows = collections.defaultdict(list)
        for r in range(args.rounds):
            order = list(checkouts.items()) if r % 2 == 0 else list(checkouts.items())[::-1]
            for label, code in order:
                row = {"label": label, "round": r, **_run(code, name, args)}
                rows[label].append(row)
                print(json.dumps(row), flush=True)
        if "before" not in rows:
            continue
        before, after = rows["before"][0], rows["after"][0]
        speed = {k: statistics.median(x["updates_per_s"] for x in v) for k, v in rows.items()}
        print(json.dumps({
            "benchmark": "update_structure_summary", "config": name,
            "compute_dtype": args.compute_dtype,
            **{f"{field}_{k}": row[field] for field in ("fusions", "kernels",
                                                       "fusions_in_scan_body",
                                                       "kernels_in_scan_body",
                                                       "mbytes_per_update", "gflop_per_update")
               for k, row in (("before", before), ("after", after))},
            "fusions_change": round(after["fusions"] / before["fusions"] - 1, 4),
            "kernels_change": round(after["kernels"] / before["kernels"] - 1, 4),
            "scan_body_fusions_change": round(after["fusions_in_scan_body"]
                                              / before["fusions_in_scan_body"] - 1, 4),
            "scan_body_kernels_change": round(after["kernels_in_scan_body"]
                                              / before["kernels_in_scan_body"] - 1, 4),
            "bytes_change": round(after["mbytes_per_update"] / before["mbytes_per_update"]
                                  - 1, 4),
            "flops_change": round(after["gflop_per_update"] / before["gflop_per_update"] - 1, 6),
            "updates_per_s_median_before": speed["before"],
            "updates_per_s_median_after": speed["after"],
            "speedup": round(speed["after"] / speed["before"], 3)}), flush=True)


if __name__ == "__main__":
    main()
