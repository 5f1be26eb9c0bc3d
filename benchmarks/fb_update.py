"""FB update throughput: K updates per compiled call (lax.scan) vs one jitted update per call.

  python benchmarks/fb_update.py [--hidden 256] [--batch 1024] [--steps 50]

Prints one JSON line: device, config, compile times and updates/s of both, and their ratio.
"""

import argparse
import json
import time

import jax
import numpy as np

from fbjax.agent import sample_batch, train_steps
from fbjax.fb import FBAgent, FBConfig
from fbjax.types import Transition


def _dataset(n, obs_dim, action_dim, seed=0):
    rng = np.random.default_rng(seed)
    return Transition(
        obs=rng.normal(size=(n, obs_dim)).astype(np.float32),
        action=rng.uniform(-1, 1, (n, action_dim)).astype(np.float32),
        next_obs=rng.normal(size=(n, obs_dim)).astype(np.float32),
        terminal=np.zeros(n, np.float32),
        start=np.zeros(n, np.float32),
    )


def _timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    jax.block_until_ready(out)
    return out, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=50, help="updates timed per variant")
    parser.add_argument("--obs-dim", type=int, default=24)
    parser.add_argument("--action-dim", type=int, default=6)
    args = parser.parse_args()

    config = FBConfig(forward_hidden=args.hidden, actor_hidden=args.hidden,
                      backward_hidden=min(args.hidden, 256), batch_size=args.batch)
    agent = FBAgent(config, args.obs_dim, args.action_dim)
    dataset = jax.device_put(_dataset(100_000, args.obs_dim, args.action_dim))
    key = jax.random.PRNGKey(0)

    def one(state, key):
        batch_key, update_key = jax.random.split(key)
        return agent.update(state, sample_batch(dataset, batch_key, args.batch), update_key)

    single = jax.jit(one, donate_argnums=0)
    scanned = jax.jit(lambda s, k: train_steps(agent, s, dataset, k, args.steps),
                      donate_argnums=0)

    state, single_compile = _timed(single, agent.init(key), key)
    start = time.perf_counter()
    state = state[0]
    for i in range(args.steps):
        state, _ = single(state, jax.random.fold_in(key, i))
    jax.block_until_ready(state)
    single_rate = args.steps / (time.perf_counter() - start)

    (state, _), scan_compile = _timed(scanned, state, key)
    (state, _), scan_time = _timed(scanned, state, jax.random.fold_in(key, 1))
    scan_rate = args.steps / scan_time

    print(json.dumps({
        "benchmark": "fb_update",
        "device": jax.devices()[0].device_kind,
        "config": {"hidden": args.hidden, "batch": args.batch, "z_dim": config.z_dim,
                   "obs_dim": args.obs_dim, "action_dim": args.action_dim,
                   "steps": args.steps},
        "compile_s": {"one_update_per_call": round(single_compile, 2),
                      "scan": round(scan_compile, 2)},
        "updates_per_s": {"one_update_per_call": round(single_rate, 2),
                          "scan": round(scan_rate, 2)},
        "scan_speedup": round(scan_rate / single_rate, 3),
    }))


if __name__ == "__main__":
    main()
