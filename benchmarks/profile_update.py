"""Where an FB update's time goes, on any device: the compiled program's size (fusions, matmuls,
other ops per update), its FLOPs from XLA's cost analysis, achieved FLOP/s and MFU against the
device's dense peak, the rate at which it would run if it only moved the bytes XLA counts at
the device's HBM bandwidth, and optionally a jax.profiler trace (TensorBoard / Perfetto) with its
summary: op time by kind, the longest ops, and the fraction of the traced span the device is busy
(benchmarks/trace_summary.py).

  python benchmarks/profile_update.py                          # the main command's FB config
  python benchmarks/profile_update.py --config=walker --batch=1024,4096
  python benchmarks/profile_update.py --trace=/tmp/fb_trace    # also write a profiler trace
  python benchmarks/profile_update.py --xla_variants[=gpu]     # XLA/thread settings, each
                                                               # in its own process, same run
  python benchmarks/profile_update.py --recount FILE           # FLOPs/MFU of older lines again

Prints one JSON line per (config, batch[, variant]). FLOPs are those of the program's math (the
lowered HLO's cost analysis, the same on every device). MFU needs the device's dense peak: known
for H100/H200 (TF32 and BF16 tensor cores, dense); elsewhere pass --peak_tflops or it is null.
The bandwidth ceiling is given for H100/H200 only.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import time

import trace_summary

# Dense tensor-core peaks (TFLOP/s, no sparsity) from NVIDIA's H100/H200 SXM data sheets.
PEAKS = {"H100": {"tf32": 494.7, "bf16": 989.4}, "H200": {"tf32": 494.7, "bf16": 989.4}}
# HBM bandwidth (TB/s) from the same data sheets (H100 SXM: HBM3, H200: HBM3e).
BANDWIDTH = {"H100": 3.35, "H200": 4.8}

# Observation and action sizes per config; the FB settings come from experiments/configs/NAME.py
# (the main command's for point_mass_maze, the open arena's for point_mass, the walker GPU run's
# full-size ones for walker).
CONFIGS = {"point_mass": (4, 2), "point_mass_maze": (4, 2), "walker": (24, 6)}


# Settings tried by --xla_variants, each applied before JAX starts (a fresh process). None
# changes the math: each variant's parameters after the same updates are compared with the
# default's (max_abs_diff_vs_default).
VARIANTS = {
    "cpu": {
        "default": "",
        "eigen_single_thread": "--xla_cpu_multi_thread_eigen=false",
        "classic_runtime": "--xla_cpu_use_thunk_runtime=false",
        "xnnpack": "--xla_cpu_use_xnnpack=true",
    },
    # CUDA graphs (XLA's command buffers): off, and extended to the scan's loop itself so one
    # graph launch replays many updates' kernels (launch gaps are what the H100 trace pointed at).
    "gpu": {
        "default": "",
        "no_command_buffers": "--xla_gpu_enable_command_buffer=",
        "command_buffers_with_loops": "--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,"
                                      "CUSTOM_CALL,CUDNN,WHILE,CONDITIONAL "
                                      "--xla_gpu_graph_min_graph_size=1",
    },
}


def datasheet_peak(device_kind: str, compute_dtype: str) -> tuple[float | None, str | None]:
    """The dense tensor-core peak (TFLOP/s) of a device in PEAKS for the matmul dtype, and what
    it is; (None, None) for any other device."""
    for key, peaks in PEAKS.items():
        if key in device_kind:
            if compute_dtype == "bfloat16":
                return peaks["bf16"], f"{key} data sheet, BF16 dense"
            return peaks["tf32"], f"{key} data sheet, TF32 dense (float32 matmuls run as TF32)"
    return None, None


def _fb_config(name: str, batch: int | None, compute_dtype: str):
    """The FB config of experiments/configs/NAME.py, at `batch` (default: the config's)."""
    import dataclasses
    import importlib

    from fbjax.pipeline.config import experiment_config

    module = importlib.import_module(f"experiments.configs.{name}")
    fb = experiment_config(module.get_config().to_dict()).fb
    return dataclasses.replace(fb, batch_size=batch or fb.batch_size, compute_dtype=compute_dtype)


FLOPS_SOURCE = "lowered HLO cost analysis (device-independent)"


def bandwidth_bound(device_kind: str, mbytes_per_update: float) -> dict:
    """The rate at which the compiled program would run if it did nothing but move the bytes
    XLA's cost analysis counts (each op's operands and results, no cache reuse) at the device's
    data-sheet HBM bandwidth: a ceiling the program cannot beat without moving fewer bytes.
    Empty for a device not in BANDWIDTH."""
    for key, tb_s in BANDWIDTH.items():
        if key in device_kind:
            return {"hbm_tb_s": tb_s, "updates_per_s_if_only_moving_bytes":
                    round(tb_s * 1e12 / (mbytes_per_update * 2**20), 1)}
    return {}


def random_dataset(obs_dim: int, action_dim: int, rows: int = 100_000):
    """A device-resident Transition of random rows to sample batches from (seeded)."""
    import jax
    import numpy as np

    from fbjax.types import Transition

    rng = np.random.default_rng(0)
    return jax.device_put(Transition(
        obs=rng.normal(size=(rows, obs_dim)).astype(np.float32),
        action=rng.uniform(-1, 1, (rows, action_dim)).astype(np.float32),
        next_obs=rng.normal(size=(rows, obs_dim)).astype(np.float32),
        terminal=np.zeros(rows, np.float32), start=np.zeros(rows, np.float32)))


def cost_of(program, key: str = "flops") -> float:
    """One figure ("flops", "bytes accessed") of XLA's cost analysis of a lowered or compiled
    program; nan where the backend gives none."""
    cost = program.cost_analysis()
    cost = cost[0] if isinstance(cost, list | tuple) else cost
    return float((cost or {}).get(key, float("nan")))


def program_flops(name: str, batch: int, compute_dtype: str) -> float:
    """FLOPs of one FB update of config NAME at `batch`, from its lowered HLO (no compile)."""
    import jax
    import jax.numpy as jnp

    from fbjax.agent import sample_batch
    from fbjax.fb import FBAgent
    from fbjax.types import Transition

    obs_dim, action_dim = CONFIGS[name]
    config = _fb_config(name, batch, compute_dtype)
    agent = FBAgent(config, obs_dim, action_dim)
    rows = 4 * config.batch_size
    dataset = Transition(obs=jnp.zeros((rows, obs_dim)), action=jnp.zeros((rows, action_dim)),
                         next_obs=jnp.zeros((rows, obs_dim)), terminal=jnp.zeros(rows),
                         start=jnp.zeros(rows))

    def one_update(s, k):
        batch_key, update_key = jax.random.split(k)
        return agent.update(s, sample_batch(dataset, batch_key, config.batch_size), update_key)

    state = agent.init(jax.random.PRNGKey(0))
    return cost_of(jax.jit(one_update).lower(state, jax.random.PRNGKey(1)))


def recount(path: str) -> None:
    """Re-derives FLOPs, TFLOP/s and MFU of the lines of a results file measured before FLOPs
    came from the lowered HLO (the measured speeds are kept; the old count moves to
    compiled_cost_gflop_per_update), and adds the bandwidth ceiling where it is missing."""
    for line in open(path):
        if not line.startswith("{"):
            continue
        row = json.loads(line)
        row.update(bandwidth_bound(row["device"], row["mbytes_accessed_per_update"]))
        if row.get("flops_source") == FLOPS_SOURCE:
            print(json.dumps(row))
            continue
        flops = program_flops(row["config"], row["batch"], row["fb"]["compute_dtype"])
        achieved = flops * row["updates_per_s"] / 1e12
        row.update({"compiled_cost_gflop_per_update": row["gflop_per_update"],
                    "gflop_per_update": round(flops / 1e9, 4), "flops_source": FLOPS_SOURCE,
                    "achieved_tflop_s": round(achieved, 4),
                    "mfu": None if not row["peak_tflop_s"] else
                    round(achieved / row["peak_tflop_s"], 4), "recounted_from": path})
        print(json.dumps(row), flush=True)


def _op_counts(hlo_text: str) -> dict[str, int]:
    """Instructions of one update's optimised HLO, by kind."""
    kinds = collections.Counter(opcode for body in trace_summary.instructions(hlo_text).values()
                                for _, opcode, _ in body)
    return {"fusion": kinds["fusion"], "dot": kinds["dot"],
            "custom-call": kinds["custom-call"], "while": kinds["while"],
            "all_instructions": sum(kinds.values())}


def _costs(agent, dataset, state, batch):
    """(FLOPs of the program's math, the compiled program's own FLOP count, its bytes accessed,
    its op counts) for one update.

    XLA's cost analysis counts a loop body once, so they come from one update compiled on its
    own (the same HLO the scan repeats). The FLOPs come from the lowered (not yet compiled) HLO:
    the same on every device. The compiled program's own count misses matmuls that the backend
    hands to a library (cuBLAS custom calls on a GPU: it saw 12.7 of 72.9 GFLOP on an H100)."""
    import jax

    from fbjax.agent import sample_batch

    def one_update(s, k):
        batch_key, update_key = jax.random.split(k)
        return agent.update(s, sample_batch(dataset, batch_key, batch), update_key)

    lowered = jax.jit(one_update).lower(state, jax.random.PRNGKey(1))
    single = lowered.compile()
    return (cost_of(lowered), cost_of(single), cost_of(single, "bytes accessed"),
            _op_counts(single.as_text()))


def _timed_calls(compiled, state, repeats):
    """A warm-up call, then `repeats` timed ones: (the last state, seconds per call)."""
    import jax

    state, _ = compiled(state, jax.random.PRNGKey(2))  # warm-up
    jax.block_until_ready(state)
    times = []
    for r in range(repeats):
        began = time.perf_counter()
        state, _ = compiled(state, jax.random.PRNGKey(3 + r))
        jax.block_until_ready(state)
        times.append(time.perf_counter() - began)
    return state, times


def measure(name: str, batch: int, steps: int, repeats: int, trace: str | None,
            peak_tflops: float | None, check_out: str | None = None,
            compute_dtype: str = "float32") -> dict:
    import jax
    import numpy as np

    from fbjax.agent import train_steps
    from fbjax.fb import FBAgent

    obs_dim, action_dim = CONFIGS[name]
    config = _fb_config(name, batch, compute_dtype)
    batch = config.batch_size
    agent = FBAgent(config, obs_dim, action_dim)
    dataset = random_dataset(obs_dim, action_dim)
    state = agent.init(jax.random.PRNGKey(0))
    run = jax.jit(lambda s, k: train_steps(agent, s, dataset, k, steps), donate_argnums=0)

    began = time.perf_counter()
    compiled = run.lower(state, jax.random.PRNGKey(1)).compile()
    compile_s = time.perf_counter() - began
    flops, device_flops, bytes_accessed, ops = _costs(agent, dataset, state, batch)

    state, times = _timed_calls(compiled, state, repeats)
    best = min(times)
    if check_out:  # the parameters after `steps` updates from a fixed start, for comparison
        fresh = compiled(agent.init(jax.random.PRNGKey(0)), jax.random.PRNGKey(7))[0]
        np.savez(check_out, *[np.asarray(x) for x in jax.tree.leaves(fresh.params)])
    summary = None
    if trace:
        with jax.profiler.trace(trace):
            state, _ = compiled(state, jax.random.PRNGKey(99))
            jax.block_until_ready(state)
        summary = trace_summary.summarize(trace, compiled.as_text(), per=steps)

    device = jax.devices()[0].device_kind
    peak, mode = (peak_tflops, "given") if peak_tflops else datasheet_peak(device, compute_dtype)
    achieved = flops * steps / best / 1e12
    return {"benchmark": "profile_update", "config": name, "batch": batch,
            "device": device, "device_count": jax.device_count(),
            "fb": {k: getattr(config, k) for k in ("z_dim", "backward_hidden",
                                                   "forward_hidden", "actor_hidden",
                                                   "ensemble_size", "batch_size",
                                                   "compute_dtype")},
            "steps_per_call": steps, "compile_s": round(compile_s, 2),
            "updates_per_s": round(steps / best, 2),
            "updates_per_s_all_repeats": [round(steps / t, 2) for t in times],
            "gflop_per_update": round(flops / 1e9, 4),
            "flops_source": FLOPS_SOURCE,
            "compiled_cost_gflop_per_update": round(device_flops / 1e9, 4),
            "mbytes_accessed_per_update": round(bytes_accessed / 2**20, 2),
            "achieved_tflop_s": round(achieved, 4),
            "peak_tflop_s": peak, "peak_mode": mode,
            "mfu": None if not peak else round(achieved / peak, 4),
            "ops_in_program": ops,
            **bandwidth_bound(device, bytes_accessed / 2**20),
            "trace": trace, "trace_summary_per_update": summary,
            "jax": jax.__version__, "xla_flags": os.environ.get("XLA_FLAGS", "")}


def _variants(args, batches) -> None:
    """Each XLA-flag variant of VARIANTS[args.xla_variants] in its own process, for each batch:
    one JSON line each, with its speed and parameter difference against the default's."""
    import tempfile

    import numpy as np

    folder = tempfile.mkdtemp(prefix="fbjax_variants_")
    reference = {}
    for variant, flags in VARIANTS[args.xla_variants].items():
        for batch in batches:
            check = os.path.join(folder, f"{variant}_{batch}.npz")
            cmd = [sys.executable, os.path.abspath(__file__), f"--config={args.config}",
                   f"--steps={args.steps}", f"--repeats={args.repeats}",
                   f"--variant={variant}", f"--check_out={check}",
                   f"--compute_dtype={args.compute_dtype}"]
            cmd += [f"--batch={batch}"] if batch else []
            cmd += [f"--trace={args.trace}"] if args.trace and variant == "default" else []
            env = {**os.environ, "XLA_FLAGS": (os.environ.get("XLA_FLAGS", "") + " "
                                               + flags).strip()}
            out = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if out.returncode != 0:
                print(json.dumps({"variant": variant, "batch": batch,
                                  "error": out.stderr[-800:]}), flush=True)
                continue
            result = json.loads(out.stdout.strip().splitlines()[-1])
            with np.load(check) as npz:
                params = [npz[k] for k in sorted(npz.files, key=lambda k: int(k[4:]))]
            if variant == "default":
                reference[batch] = params, result["updates_per_s"]
            if batch in reference:
                base, rate = reference[batch]
                result["max_abs_diff_vs_default"] = float(max(
                    np.max(np.abs(a - b)) for a, b in zip(params, base, strict=True)))
                result["speedup_vs_default"] = round(result["updates_per_s"] / rate, 3)
            print(json.dumps(result), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="point_mass", choices=sorted(CONFIGS))
    parser.add_argument("--batch", default=None, help="comma-separated (default: the config's)")
    parser.add_argument("--steps", type=int, default=100, help="updates per compiled call")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls (the best counts)")
    parser.add_argument("--trace", default=None, help="write a jax.profiler trace here")
    parser.add_argument("--peak_tflops", type=float, default=None)
    parser.add_argument("--compute_dtype", default="float32", choices=("float32", "bfloat16"))
    parser.add_argument("--xla_variants", nargs="?", const="cpu", choices=sorted(VARIANTS),
                        help="run each of VARIANTS[cpu|gpu] in its own process and report all "
                             "(--trace goes to the default's)")
    parser.add_argument("--variant", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--check_out", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--recount", default=None, metavar="FILE",
                        help="re-derive FLOPs/MFU of FILE's lines from the lowered HLO")
    args = parser.parse_args()
    if args.recount:
        recount(args.recount)
        return
    batches = [int(b) for b in args.batch.split(",")] if args.batch else [None]
    if args.xla_variants:
        _variants(args, batches)
        return
    for batch in batches:
        result = measure(args.config, batch, args.steps, args.repeats, args.trace,
                         args.peak_tflops, args.check_out, args.compute_dtype)
        if args.variant:
            result["variant"] = args.variant
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
