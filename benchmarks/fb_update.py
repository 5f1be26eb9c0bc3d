"""FB update throughput and precision: updates/s, achieved TFLOP/s and MFU of an FB config's
update in float32 and with an option (bfloat16 matmuls), and how far the option's training lands
from float32's.

  python benchmarks/fb_update.py                  # full-size walker config, batch 1024 and 4096
  python benchmarks/fb_update.py --config=point_mass_maze --batch=256   # the main command's update
  python benchmarks/fb_update.py --config=point_mass_maze --batch=256 --cores   # CPU layouts

Prints one JSON line per (batch, matmul dtype), then one "agreement" line per batch:

* updates_per_s: the best of --repeats calls of a compiled `lax.scan` of --steps updates, and
  one_update_per_call_per_s: the same updates one jitted call each (the launch overhead's share).
* gflop_per_update, achieved_tflop_s, mfu: FLOPs of the program's math from the lowered HLO
  (benchmarks/profile_update.py), and MFU against the device's dense peak. On H100/H200 that is
  the data sheet's TF32 (float32 matmuls run as TF32 there) or BF16 figure; on any other device
  it is measured in the same run: the best rate of a 2048^3 matmul in that dtype
  (peak_source says which).
* agreement: the same --agree_steps updates from the same initial parameters, batches and keys in
  float32 and with the option. Reports the mean measure loss (fb_loss) of both and its relative
  difference, and each parameter tree's distance from float32's relative to how far float32's
  training moved it.
* --cores (CPU): the same float32 update as one process using every core it may (before), and as
  one process per core, each pinned to its core and timed over the same window (after: the
  layout of train.parallel="cores"). Prints one "fb_update_cores" line with both rates in
  seed-updates/s; every process runs in a fresh interpreter.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import profile_update  # noqa: E402  (the FLOP counting and timing live there)

MATMUL_SIZE = 2048


def measured_peak(dtype: str, repeats: int = 5) -> float:
    """TFLOP/s of the best of `repeats` jitted MATMUL_SIZE^3 matmuls in `dtype` on device 0."""
    import jax
    import jax.numpy as jnp

    n = MATMUL_SIZE
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.dtype(dtype))
    matmul = jax.jit(lambda x, y: jnp.dot(x, y, preferred_element_type=jnp.float32))
    jax.block_until_ready(matmul(a, a))
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        jax.block_until_ready(matmul(a, a))
        best = min(best, time.perf_counter() - began)
    return 2 * n**3 / best / 1e12


def peak_for(device_kind: str, dtype: str) -> tuple[float, str]:
    """The data sheet's dense peak where profile_update knows it, else one measured here."""
    peak, source = profile_update.datasheet_peak(device_kind, dtype)
    if peak:
        return peak, source
    return round(measured_peak(dtype), 4), (f"measured here: best {MATMUL_SIZE}^3 {dtype} matmul "
                                            "(jnp.dot, float32 accumulation), same run")


def agent_and_data(name: str, batch: int, dtype: str):
    """The FB agent of config NAME at `batch` with `dtype` matmuls, and its random dataset."""
    from fbjax.fb import FBAgent

    obs_dim, action_dim = profile_update.CONFIGS[name]
    agent = FBAgent(profile_update._fb_config(name, batch, dtype), obs_dim, action_dim)
    return agent, profile_update.random_dataset(obs_dim, action_dim)


def per_call_rate(name: str, batch: int, dtype: str, steps: int) -> float:
    """Updates/s with one jitted update per call (the dispatch a Python loop pays)."""
    import jax

    from fbjax.agent import sample_batch

    agent, dataset = agent_and_data(name, batch, dtype)

    def one(state, key):
        batch_key, update_key = jax.random.split(key)
        return agent.update(state, sample_batch(dataset, batch_key, agent.batch_size),
                            update_key)[0]

    single = jax.jit(one, donate_argnums=0)
    key = jax.random.PRNGKey(0)
    state = jax.block_until_ready(single(agent.init(key), key))
    began = time.perf_counter()
    for i in range(steps):
        state = single(state, jax.random.fold_in(key, i))
    jax.block_until_ready(state)
    return steps / (time.perf_counter() - began)


def agreement(name: str, batch: int, option: str, steps: int) -> dict:
    """float32 vs `option` after the same `steps` updates (same init, batches and keys)."""
    import jax
    import numpy as np

    from fbjax.agent import train_steps

    out = {}
    for dtype in ("float32", option):
        agent, dataset = agent_and_data(name, batch, dtype)  # the same seeded rows each time
        init = agent.init(jax.random.PRNGKey(0))
        state, metrics = jax.jit(lambda s, k, a=agent, d=dataset: train_steps(a, s, d, k, steps))(
            init, jax.random.PRNGKey(1))
        out[dtype] = (init.params, state.params, float(metrics["fb_loss"]))
    start, f32, loss32 = out["float32"]
    _, other, loss_other = out[option]

    def norm(tree):
        return float(np.sqrt(sum(np.sum(np.square(np.asarray(x, np.float64)))
                                 for x in jax.tree.leaves(tree))))

    names = [k for k in ("forward", "backward", "actor") if getattr(f32, k) is not None]
    moved = {k: norm(jax.tree.map(lambda a, b: a - b, getattr(f32, k), getattr(start, k)))
             for k in names}
    apart = {k: norm(jax.tree.map(lambda a, b: a - b, getattr(other, k), getattr(f32, k)))
             for k in names}
    return {"benchmark": "fb_update_agreement", "config": name, "batch": batch,
            "option": option, "updates": steps,
            "mean_fb_loss": {"float32": round(loss32, 4), option: round(loss_other, 4)},
            "fb_loss_rel_diff": round(abs(loss_other - loss32) / max(abs(loss32), 1e-12), 5),
            "params_distance_over_float32_step": {k: round(apart[k] / max(moved[k], 1e-12), 5)
                                                  for k in names}}


def _child(args, extra: list[str]) -> list[str]:
    return [sys.executable, os.path.abspath(__file__), f"--config={args.config}",
            f"--steps={args.steps}", f"--repeats={args.repeats}", *extra]


def cores_layouts(args, batch: int) -> dict:
    """One process on every core vs one pinned process per core (see the module docstring)."""
    import subprocess
    import tempfile

    cores = sorted(os.sched_getaffinity(0))
    folder = tempfile.mkdtemp(prefix="fbjax_cores_")

    def run(pins: list[int | None]) -> list[float]:
        procs = [subprocess.Popen(_child(args, [f"--batch={batch}", f"--barrier={folder}/"
                                                f"{len(pins)}_{i}", f"--barrier_count="
                                                f"{len(pins)}"] + ([f"--pin={c}"] if c is not None
                                                                   else [])),
                                  stdout=subprocess.PIPE, text=True) for i, c in enumerate(pins)]
        outs = [p.communicate()[0] for p in procs]
        if any(p.returncode for p in procs):
            raise RuntimeError(f"fb_update --cores: a worker failed: {outs}")
        return [json.loads(o.strip().splitlines()[-1])["updates_per_s"] for o in outs]

    before = run([None])
    after = run(cores)
    return {"benchmark": "fb_update_cores", "config": args.config, "batch": batch,
            "cores": cores, "steps_per_call": args.steps, "repeats": args.repeats,
            "one_process_updates_per_s": before[0],
            "pinned_processes_updates_per_s": after,
            "pinned_seed_updates_per_s": round(sum(after), 2),
            "speedup": round(sum(after) / before[0], 3)}


def timed_alone(args, batch: int) -> None:
    """A --cores worker: optionally pinned, waits for its siblings after compiling, then times."""
    import jax

    from fbjax.agent import train_steps

    agent, dataset = agent_and_data(args.config, batch, "float32")
    run = jax.jit(lambda s, k: train_steps(agent, s, dataset, k, args.steps), donate_argnums=0)
    state, _ = run(agent.init(jax.random.PRNGKey(0)), jax.random.PRNGKey(1))
    jax.block_until_ready(state)
    open(args.barrier, "w").close()  # compiled and warm: wait for the others
    prefix = args.barrier.rsplit("_", 1)[0]
    while sum(os.path.exists(f"{prefix}_{i}") for i in range(args.barrier_count)) < \
            args.barrier_count:
        time.sleep(0.01)
    best = float("inf")
    for r in range(args.repeats):
        began = time.perf_counter()
        state, _ = run(state, jax.random.PRNGKey(2 + r))
        jax.block_until_ready(state)
        best = min(best, time.perf_counter() - began)
    print(json.dumps({"updates_per_s": round(args.steps / best, 2)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="walker", choices=sorted(profile_update.CONFIGS))
    parser.add_argument("--batch", default="1024,4096", help="comma-separated batch sizes")
    parser.add_argument("--steps", type=int, default=20, help="updates per compiled call")
    parser.add_argument("--repeats", type=int, default=2, help="timed calls (the best counts)")
    parser.add_argument("--per_call_steps", type=int, default=10,
                        help="updates timed one call each (0: skip)")
    parser.add_argument("--option", default="bfloat16", choices=("bfloat16",),
                        help="the matmul dtype compared with float32")
    parser.add_argument("--agree_steps", type=int, default=20,
                        help="updates of the agreement check (0: skip)")
    parser.add_argument("--cores", action="store_true",
                        help="CPU: one process vs one pinned process per core (see above)")
    parser.add_argument("--pin", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--barrier", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--barrier_count", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pin is not None:
        os.sched_setaffinity(0, {args.pin})  # before JAX starts its threads
    if args.barrier:
        timed_alone(args, int(args.batch))
        return
    if args.cores:
        for batch in [int(b) for b in args.batch.split(",")]:
            print(json.dumps(cores_layouts(args, batch)), flush=True)
        return

    import jax

    device = jax.devices()[0].device_kind
    for batch in [int(b) for b in args.batch.split(",")]:
        for dtype in ("float32", args.option):
            peak, source = peak_for(device, dtype)
            row = profile_update.measure(args.config, batch, args.steps, args.repeats, None,
                                         peak, compute_dtype=dtype)
            row.update(benchmark="fb_update", peak_source=source)
            row.pop("peak_mode", None)
            if args.per_call_steps:
                row["one_update_per_call_per_s"] = round(
                    per_call_rate(args.config, batch, dtype, args.per_call_steps), 2)
            print(json.dumps(row), flush=True)
        if args.agree_steps:
            print(json.dumps(agreement(args.config, batch, args.option, args.agree_steps)),
                  flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
