"""Collection throughput: env steps/s of one compiled rollout per domain and env count.

  python benchmarks/collect.py --domains=point_mass,walker,cheetah,hopper --envs=64,256
  python benchmarks/collect.py --envs=1024,4096,8192 --steps=200        # on an accelerator

Each measurement compiles the rollout (reported apart), then times `--repeats` rollouts of
`--steps` control steps in every environment (resets included) and prints one JSON line.
"""

import argparse
import json
import time

import jax

import fbjax.envs as envs
from fbjax.data.collect import CollectConfig, make_rollout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--domains", default=",".join(envs.domains()))
    parser.add_argument("--envs", default="64,256")
    parser.add_argument("--policy", default="uniform", choices=["uniform", "noise"])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    for name in args.domains.split(","):
        domain = envs.make(name)
        for num_envs in (int(n) for n in args.envs.split(",")):
            config = CollectConfig(policy=args.policy, num_envs=num_envs, num_episodes=1,
                                   episode_length=args.steps)
            rollout = make_rollout(domain, config)
            start = time.perf_counter()
            jax.block_until_ready(rollout(None, jax.random.PRNGKey(0)))
            compile_s = time.perf_counter() - start
            start = time.perf_counter()
            for i in range(args.repeats):
                jax.block_until_ready(rollout(None, jax.random.PRNGKey(i + 1)))
            seconds = (time.perf_counter() - start) / args.repeats
            print(json.dumps({
                "benchmark": "collect", "device": jax.devices()[0].device_kind,
                "domain": name, "policy": args.policy, "num_envs": num_envs,
                "steps_per_env": args.steps, "physics_substeps": domain.n_substeps,
                "reset_physics_steps": domain.settle_steps,
                "env_steps_per_s": round(num_envs * args.steps / seconds),
                "compile_s": round(compile_s - seconds, 2)}), flush=True)


if __name__ == "__main__":
    main()
