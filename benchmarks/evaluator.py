"""Evaluator throughput: P FB prompts x E episodes of a domain rolled out in one compiled program,
in environment steps per second (P * E * length / seconds, compile excluded).

  python benchmarks/evaluator.py --domain=point_mass --prompts=8 --episodes=128 --length=100
  python benchmarks/evaluator.py --domain=walker --prompts=8,64 --episodes=128 --length=1000

Prints one JSON line per (domain, P, E). The FB networks are freshly initialised with the
domain's pipeline config sizes (the policy's cost is real, its returns are not the point).
"""

import argparse
import importlib
import json
import os
import sys
import time


def measure(domain_name: str, prompts: int, episodes: int, length: int, repeats: int) -> dict:
    import jax
    import jax.numpy as jnp

    import fbjax.envs as envs
    from fbjax.eval.evaluator import fb_policy, make_evaluator
    from fbjax.fb import FBAgent
    from fbjax.nets import project_z
    from fbjax.pipeline.config import experiment_config

    try:  # the domain's pipeline config (experiments/configs/DOMAIN.py), else point mass's
        module = importlib.import_module(f"experiments.configs.{domain_name}")
    except ModuleNotFoundError:
        module = importlib.import_module("experiments.configs.point_mass")
    fb_config = experiment_config(module.get_config().to_dict()).fb

    domain = envs.make(domain_name)
    agent = FBAgent(fb_config, domain.obs_dim, domain.action_dim)
    params = agent.init(jax.random.PRNGKey(0)).params
    zs = project_z(jax.random.normal(jax.random.PRNGKey(1), (prompts, fb_config.z_dim)))
    task_ids = jnp.arange(prompts) % len(domain.task_names)
    evaluate = make_evaluator(domain, fb_policy(agent.networks), episodes, length,
                              fb_config.discount)
    began = time.perf_counter()
    jax.block_until_ready(evaluate(params, zs, task_ids, jax.random.PRNGKey(2)))
    first = time.perf_counter() - began
    times = []
    for r in range(repeats):
        began = time.perf_counter()
        jax.block_until_ready(evaluate(params, zs, task_ids, jax.random.PRNGKey(3 + r)))
        times.append(time.perf_counter() - began)
    steps = prompts * episodes * length
    return {"benchmark": "evaluator", "domain": domain_name, "prompts": prompts,
            "episodes": episodes, "parallel_episodes": prompts * episodes, "length": length,
            "device": jax.devices()[0].device_kind, "jax": jax.__version__,
            "first_call_s": round(first, 2), "seconds": round(min(times), 3),
            "env_steps_per_s": round(steps / min(times), 1),
            "physics_steps_per_s": round(steps * domain.n_substeps / min(times), 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", default="point_mass")
    parser.add_argument("--prompts", default="8", help="comma-separated")
    parser.add_argument("--episodes", default="128", help="comma-separated, per prompt")
    parser.add_argument("--length", type=int, default=100, help="steps per episode")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    for p in (int(x) for x in args.prompts.split(",")):
        for e in (int(x) for x in args.episodes.split(",")):
            print(json.dumps(measure(args.domain, p, e, args.length, args.repeats)), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
