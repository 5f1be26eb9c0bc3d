"""Does a collection rollout on this CPU finish, or stall with every thread idle?

  python -m studies.cpu_stall [--domain=quadruped] [--sizes=64x100,64x50,16x100] [--trials=2]

Each trial runs one compiled uniform-random rollout (`fbjax.data.collect.make_rollout`, ENVS
environments x STEPS control steps) in a fresh process and watches it: a trial that uses no CPU
for `--idle_s` seconds while its rollout is still unfinished is recorded as stalled (and killed).
Prints one JSON line per trial and writes studies/cpu_stall/results/cpu_stall.json with provenance.
docs/limits.md quotes it.
"""

import argparse
import json
import os
import subprocess
import sys
import time

from fbjax import provenance

CHILD = """
import sys, time, jax
import fbjax.envs as envs
from fbjax.data.collect import CollectConfig, make_rollout
domain = envs.make(sys.argv[1])
config = CollectConfig(policy="uniform", num_envs=int(sys.argv[2]), num_episodes=1,
                       episode_length=int(sys.argv[3]))
start = time.perf_counter()
jax.block_until_ready(make_rollout(domain, config)(None, jax.random.PRNGKey(0)))
print("finished", round(time.perf_counter() - start, 1), flush=True)
"""


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def trial(domain: str, envs: int, steps: int, idle_s: float, limit_s: float) -> dict:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, domain, str(envs), str(steps)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    began = time.perf_counter()
    last_cpu, last_change = 0.0, began
    outcome = "limit"
    while time.perf_counter() - began < limit_s:
        if proc.poll() is not None:
            out = proc.stdout.read()
            outcome = "finished" if "finished" in out else f"exit {proc.returncode}"
            break
        cpu = _cpu_seconds(proc.pid)
        if cpu > last_cpu + 0.05:
            last_cpu, last_change = cpu, time.perf_counter()
        elif time.perf_counter() - last_change > idle_s:
            outcome = "stalled"
            break
        time.sleep(1.0)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    return {"domain": domain, "num_envs": envs, "steps": steps, "outcome": outcome,
            "wall_s": round(time.perf_counter() - began, 1), "cpu_s": round(last_cpu, 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--domain", default="quadruped")
    parser.add_argument("--sizes", default="64x100,64x50,16x100")
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--idle_s", type=float, default=30.0)
    parser.add_argument("--limit_s", type=float, default=300.0)
    parser.add_argument("--out", default="studies/cpu_stall/results/cpu_stall.json")
    args = parser.parse_args()
    rows = []
    for size in args.sizes.split(","):
        envs, steps = (int(x) for x in size.split("x"))
        for _ in range(args.trials):
            rows.append(trial(args.domain, envs, steps, args.idle_s, args.limit_s))
            print(json.dumps(rows[-1]), flush=True)
    meta = provenance.of_args("studies.cpu_stall", args)
    with open(args.out, "w") as f:
        json.dump({"provenance": meta, "trials": rows}, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
