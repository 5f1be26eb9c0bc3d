"""Seed-updates/s: S independent FB models trained in one compiled program (`train.parallel=
"seeds"`, fbjax.train.seeds.seed_steps) against one model (S = 1) in the same run.

  python benchmarks/fb_seeds.py                              # main command's config, S = 1,4,8
  python benchmarks/fb_seeds.py --config=walker --batch=1024 --seeds=1,4,8 --steps=100
  python benchmarks/fb_seeds.py --config=walker --batch=1024 --seeds=8 --compute_dtype=bfloat16

Prints one JSON line per S: program updates/s (every seed advances one update), seed-updates/s
(S x that) and the ratio of seed-updates/s to the first line's, the baseline measured in the same
run: one seed trained the ordinary way, without a seed axis (--plain=0 leaves it out). On a device
that one seed leaves idle the ratio approaches S; on a saturated one it stays near 1.
"""

import argparse
import json
import os
import sys
import time


def measure(name: str, batch: int | None, num_seeds: int, steps: int, repeats: int,
            plain: bool = False, compute_dtype: str = "float32") -> dict:
    """num_seeds seeds in one program; `plain`: one seed without the seed axis (the ordinary
    single-device training step, `fbjax.train.sharding.single_device_steps`)."""
    import jax
    import numpy as np
    from profile_update import CONFIGS, _fb_config, random_dataset

    from fbjax.fb import FBAgent
    from fbjax.train.seeds import seed_steps, stack
    from fbjax.train.sharding import single_device_steps

    obs_dim, action_dim = CONFIGS[name]
    config = _fb_config(name, batch, compute_dtype)
    agent = FBAgent(config, obs_dim, action_dim)
    dataset = random_dataset(obs_dim, action_dim)
    if plain:
        one = single_device_steps(agent, steps)

        def run_plain(state, data, keys):
            state, metrics = one(jax.tree.map(lambda x: x[0], state), data, keys[0])
            return jax.tree.map(lambda x: x[None], state), metrics

        run = jax.jit(run_plain, donate_argnums=0)
    else:
        run = seed_steps(agent, steps)
    states = stack([agent.init(jax.random.PRNGKey(s)) for s in range(num_seeds)])
    keys = jax.random.split(jax.random.PRNGKey(1), num_seeds)
    began = time.perf_counter()
    compiled = run.lower(states, dataset, keys).compile()
    compile_s = time.perf_counter() - began
    states, _ = compiled(states, dataset, keys)  # warm-up
    jax.block_until_ready(states)
    times = []
    for r in range(repeats):
        began = time.perf_counter()
        states, metrics = compiled(states, dataset, jax.random.split(jax.random.PRNGKey(2 + r),
                                                                     num_seeds))
        jax.block_until_ready(states)
        times.append(time.perf_counter() - began)
    finite = all(bool(np.all(np.isfinite(np.asarray(v)))) for v in metrics.values())
    best = min(times)
    return {"benchmark": "fb_seeds", "config": name, "batch": config.batch_size,
            "seeds": num_seeds, "seed_axis": not plain, "device": jax.devices()[0].device_kind,
            "fb": {k: getattr(config, k) for k in ("z_dim", "backward_hidden", "forward_hidden",
                                                   "actor_hidden", "ensemble_size",
                                                   "compute_dtype")},
            "steps_per_call": steps, "compile_s": round(compile_s, 2),
            "program_updates_per_s": round(steps / best, 2),
            "seed_updates_per_s": round(num_seeds * steps / best, 2),
            "seed_updates_per_s_all_repeats": [round(num_seeds * steps / t, 2) for t in times],
            "metrics_finite": finite, "jax": jax.__version__}


def main():
    from profile_update import CONFIGS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="point_mass", choices=sorted(CONFIGS))
    parser.add_argument("--batch", type=int, default=None, help="default: the config's")
    parser.add_argument("--seeds", default="1,4,8", help="comma-separated numbers of seeds")
    parser.add_argument("--steps", type=int, default=50, help="updates per compiled call")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls (the best counts)")
    parser.add_argument("--plain", type=int, default=1, choices=(0, 1),
                        help="first measure one seed without the seed axis (the baseline)")
    parser.add_argument("--compute_dtype", default="float32", choices=("float32", "bfloat16"))
    args = parser.parse_args()
    base = None
    runs = [(1, True)] * args.plain + [(int(x), False) for x in args.seeds.split(",")]
    for s, plain in runs:
        result = measure(args.config, args.batch, s, args.steps, args.repeats, plain,
                         args.compute_dtype)
        base = base or result["seed_updates_per_s"]
        result["ratio_to_first"] = round(result["seed_updates_per_s"] / base, 3)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [os.path.dirname(here), here]
    main()
