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

CONFIGS = {"point_mass_maze": (4, 2, None), "walker": (24, 6, 1024)}
_INSTRUCTION = re.compile(r"\s*(?:ROOT\s+)?%?([\w.\-]+)\s*=\s*(?:\(.*?\)|\S+)\s+([\w\-]+)\(")
_HEADER = re.compile(r"\s*(ENTRY\s+)?%?([\w.\-]+)\s.*\{\s*$")
_NO_DATA = {"parameter", "constant", "tuple", "get-tuple-element", "bitcast"}


def kernel_counts(hlo_text: str, only_loop_bodies: bool = False) -> dict:
    """Fusions and kernels (see the module docstring) of an optimised HLO module's text; with
    `only_loop_bodies`, those of the outermost while loop's body and what it runs."""
    computations, entry = collections.defaultdict(list), None
    current = None
    for line in hlo_text.splitlines():
        m = _INSTRUCTION.match(line)
        if m and current is not None:
            computations[current].append((m.group(2), line))
        elif _HEADER.match(line):
            header = _HEADER.match(line)
            current = header.group(2)
            entry = current if header.group(1) else entry

    def runs(name):  # computations whose instructions run as kernels, from `name` down
        found = [name]
        for opcode, line in computations.get(name, ()):
            if opcode in ("while", "call", "conditional"):
                branches = re.search(r"branch_computations=\{([^}]*)\}", line)
                callees = re.findall(r"(?:condition|body|to_apply|true_computation|"
                                     r"false_computation)=%?([\w.\-]+)", line)
                callees += re.findall(r"%?([\w.\-]+)", branches.group(1)) if branches else []
                for callee in callees:
                    found += runs(callee)
        return found

    start = entry
    if only_loop_bodies:
        loops = [re.search(r"body=%?([\w.\-]+)", line).group(1)
                 for body in computations.values() for opcode, line in body
                 if opcode == "while"]
        start = max(loops, key=lambda body: len(computations[body]))
    kinds = collections.Counter(opcode for name in dict.fromkeys(runs(start))
                                for opcode, _ in computations[name] if opcode not in _NO_DATA)
    return {"fusions": kinds["fusion"], "kernels": sum(kinds.values()),
            "kernels_by_op": dict(kinds.most_common())}


def _agent_and_data(name: str, compute_dtype: str):
    """CONFIG's FB agent (walker at its reference batch) and 100k rows of synthetic data."""
    import dataclasses
    import importlib

    import jax
    import numpy as np

    from fbjax.fb import FBAgent
    from fbjax.pipeline.config import experiment_config
    from fbjax.types import Transition

    obs_dim, action_dim, batch = CONFIGS[name]
    module = importlib.import_module(f"experiments.configs.{name}")
    fb = experiment_config(module.get_config().to_dict()).fb
    config = dataclasses.replace(fb, batch_size=batch or fb.batch_size,
                                 compute_dtype=compute_dtype)
    rng = np.random.default_rng(0)
    rows = 100_000
    data = jax.device_put(Transition(
        obs=rng.normal(size=(rows, obs_dim)).astype(np.float32),
        action=rng.uniform(-1, 1, (rows, action_dim)).astype(np.float32),
        next_obs=rng.normal(size=(rows, obs_dim)).astype(np.float32),
        terminal=np.zeros(rows, np.float32), start=np.zeros(rows, np.float32)))
    return FBAgent(config, obs_dim, action_dim), data


def measure(name: str, steps: int, repeats: int, compute_dtype: str) -> dict:
    """One process's figures for config NAME with whatever fbjax is first on sys.path."""
    import jax

    import fbjax
    from fbjax.agent import train_steps

    agent, data = _agent_and_data(name, compute_dtype)
    config = agent.config
    state = agent.init(jax.random.PRNGKey(0))
    key = jax.random.PRNGKey(1)

    def cost(program, field):
        c = program.cost_analysis()
        c = c[0] if isinstance(c, list | tuple) else c
        return float(c[field])

    one = jax.jit(lambda s, k: train_steps(agent, s, data, k, 1))
    lowered = one.lower(state, key)
    compiled = lowered.compile()
    run = jax.jit(lambda s, k: train_steps(agent, s, data, k, steps), donate_argnums=0)
    began = time.perf_counter()
    scan = run.lower(state, key).compile()
    compile_s = time.perf_counter() - began
    state, _ = scan(state, key)  # warm-up
    jax.block_until_ready(state)
    rates = []
    for r in range(repeats):
        began = time.perf_counter()
        state, _ = scan(state, jax.random.PRNGKey(2 + r))
        jax.block_until_ready(state)
        rates.append(steps / (time.perf_counter() - began))
    return {"benchmark": "update_structure", "config": name, "batch": config.batch_size,
            "compute_dtype": compute_dtype, "fbjax_from": os.path.dirname(
                os.path.dirname(os.path.abspath(fbjax.__file__))),
            **kernel_counts(compiled.as_text()),
            **{f"{k}_in_scan_body": v for k, v in kernel_counts(scan.as_text(), True).items()
               if k != "kernels_by_op"},
            "mbytes_per_update": round(cost(compiled, "bytes accessed") / 2**20, 2),
            "gflop_per_update": round(cost(lowered, "flops") / 1e9, 4),
            "steps_per_call": steps, "compile_s": round(compile_s, 2),
            "updates_per_s": round(max(rates), 2),
            "updates_per_s_all": [round(x, 2) for x in rates],
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
    parser.add_argument("--configs", default="point_mass_maze,walker")
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
