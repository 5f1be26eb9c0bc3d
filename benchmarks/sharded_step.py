"""Sharded FB updates: step time on 1 vs N devices (fake CPU devices here, informational).

  python benchmarks/sharded_step.py --devices=1,4 --hidden=256 --batch=1024 --steps=20
  python benchmarks/sharded_step.py --devices=1 --hidden=1024 --batch=4096   # on a GPU

Each device count runs in its own process (on CPU, XLA_FLAGS fakes the devices). Prints one JSON
line: updates/s per device count and the ratio to the first.
"""

import argparse
import json
import os
import subprocess
import sys
import time


def measure(hidden: int, batch: int, steps: int) -> dict:
    import jax
    import numpy as np

    from fbjax.fb import FBAgent, FBConfig
    from fbjax.train import sharding
    from fbjax.types import Transition

    config = FBConfig(forward_hidden=hidden, actor_hidden=hidden,
                      backward_hidden=min(hidden, 256), batch_size=batch)
    obs_dim, action_dim, rows = 24, 6, 65536
    rng = np.random.default_rng(0)
    data = Transition(rng.normal(size=(rows, obs_dim)).astype(np.float32),
                      rng.uniform(-1, 1, (rows, action_dim)).astype(np.float32),
                      rng.normal(size=(rows, obs_dim)).astype(np.float32),
                      np.zeros(rows, np.float32), np.zeros(rows, np.float32))
    agent = FBAgent(config, obs_dim, action_dim)
    mesh = sharding.make_mesh()
    devices = jax.device_count()
    dataset = sharding.shard_dataset(jax.tree.map(lambda x: x[sharding.process_rows(rows)], data),
                                     mesh)
    state = sharding.replicate(agent.init(jax.random.PRNGKey(0)), mesh)
    run = sharding.sharded_steps(agent, mesh, steps)
    start = time.perf_counter()
    state, _ = run(state, dataset, jax.random.PRNGKey(1))
    jax.block_until_ready(state)
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    state, _ = run(state, dataset, jax.random.PRNGKey(2))
    jax.block_until_ready(state)
    return {"devices": devices, "device_kind": jax.devices()[0].device_kind,
            "compile_s": round(compile_s, 2),
            "updates_per_s": round(steps / (time.perf_counter() - start), 2)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", default="1,4")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.hidden, args.batch, args.steps)))
        return
    rows = []
    for n in (int(x) for x in args.devices.split(",")):
        env = dict(os.environ)
        if n > 1:
            env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={n}"
        out = subprocess.run([sys.executable, __file__, "--child", f"--hidden={args.hidden}",
                              f"--batch={args.batch}", f"--steps={args.steps}"], env=env,
                             capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print(json.dumps({"benchmark": "sharded_step", "hidden": args.hidden, "global_batch":
                      args.batch, "steps": args.steps, "runs": rows,
                      "ratio_to_first": [round(r["updates_per_s"] / rows[0]["updates_per_s"], 3)
                                         for r in rows]}))


if __name__ == "__main__":
    main()
