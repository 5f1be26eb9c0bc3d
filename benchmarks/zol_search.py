"""ZOL latent search: P prompts in one compiled call vs a Python loop of single-prompt compiled
calls vs a loop that dispatches one Adam step at a time from Python (as the published PyTorch code
runs it).

  python benchmarks/zol_search.py --size=small --prompts=1,8,64 --steps=100
  python benchmarks/zol_search.py --size=full --prompts=1,8 --steps=10      # CPU: few steps
  python benchmarks/zol_search.py --size=full --prompts=64 --trace=/tmp/zol  # + where time goes
  python benchmarks/zol_search.py --size=full --prompts=64,512 --loop_prompts=64  # loops on 64
  python benchmarks/zol_search.py --recount FILE   # FLOPs and MFU of older lines again

Prints one JSON line per (size, P): seconds per prompt for each way, both speed-ups, and the
one-call search's achieved TFLOP/s (FLOPs of its math from the lowered HLO: per prompt, one
objective-and-gradient evaluation per Adam step and one objective evaluation of the last
iterate; see search_flops) and MFU where the device's dense peak is known
(profile_update.PEAKS).
"""

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import trace_summary
from profile_update import cost_of, datasheet_peak

from fbjax.fb import FBAgent, FBConfig
from fbjax.nets import project_z
from fbjax.zol import ZOLConfig, zol_objective, zol_search

SIZES = {
    "small": dict(z_dim=16, backward_hidden=64, forward_hidden=64, actor_hidden=64),
    "full": dict(z_dim=50, backward_hidden=256, forward_hidden=1024, actor_hidden=1024),
}


def _setup(size, num_prompts, num_samples, num_starts, obs_dim=24, action_dim=6):
    agent = FBAgent(FBConfig(**SIZES[size]), obs_dim, action_dim)
    params = agent.init(jax.random.PRNGKey(0)).params
    rng = np.random.default_rng(0)
    starts = jnp.asarray(rng.normal(size=(num_starts, obs_dim)), jnp.float32)
    next_obs = jnp.asarray(rng.normal(size=(num_samples, obs_dim)), jnp.float32)
    rewards = jnp.asarray(rng.normal(size=(num_prompts, num_samples)), jnp.float32)
    z0 = project_z(jnp.asarray(rng.normal(size=(num_prompts, agent.config.z_dim)), jnp.float32))
    return agent, params, starts, next_obs, rewards, z0


def _time(fn, repeats=1):
    start = time.perf_counter()
    for _ in range(repeats):
        jax.block_until_ready(fn())
    return (time.perf_counter() - start) / repeats


def search_flops(size, num_prompts, steps, num_samples, num_starts) -> float:
    """FLOPs of the benchmark's one `zol_search` call for P prompts, from lowered HLO (no
    compile): B on the sample once, then per prompt one objective-and-gradient evaluation per
    Adam step and one objective evaluation of the last iterate. The call returns z only, so the
    info's evaluations (at z0 and at the kept z) are dead code that is dropped. XLA's cost
    analysis counts a loop's body once, hence the parts. Left out: the Adam step and projection
    of z (d numbers per prompt and step) and the part of the last iterate's gradient pass that
    stays when its gradient is dropped (under 1% of a one-step call, tests/test_benchmarks.py)."""
    agent, params, starts, next_obs, rewards, z0 = _setup(size, 1, num_samples, num_starts)
    nets, gamma, config = agent.networks, agent.config.discount, ZOLConfig(steps=steps)
    backward = jax.jit(lambda o: nets.backward(params.backward, o)).lower(next_obs)
    b = nets.backward(params.backward, next_obs)

    def objective(z):
        return zol_objective(z, nets, params, starts, b, rewards[0], z0[0], gamma, config)

    with_grad = jax.jit(jax.value_and_grad(objective, has_aux=True)).lower(z0[0])
    alone = jax.jit(objective).lower(z0[0])
    return cost_of(backward) + num_prompts * (steps * cost_of(with_grad) + cost_of(alone))


def _achieved(row: dict, flops: float) -> dict:
    """The FLOP figures of a result line whose batched time is known."""
    seconds = row["s_per_prompt"]["batched"] * row["prompts"]
    achieved = flops / seconds / 1e12
    peak, mode = datasheet_peak(row["device"], "float32")
    return {"gflop_per_call": round(flops / 1e9, 4), "achieved_tflop_s": round(achieved, 4),
            "peak_tflop_s": peak, "peak_mode": mode,
            "mfu": None if not peak else round(achieved / peak, 4)}


def _stepwise_seconds(nets, params, starts, next_obs, rewards, z0, gamma, config, looped):
    """The naive baseline: one Adam step per Python dispatch, best iterate tracked on the host,
    for the first `looped` prompts."""
    b = nets.backward(params.backward, next_obs)
    opt = optax.adam(config.lr)

    @jax.jit
    def adam_step(z, opt_state, r, z_init):
        (obj, _), grad = jax.value_and_grad(zol_objective, has_aux=True)(
            z, nets, params, starts, b, r, z_init, gamma, config)
        updates, opt_state = opt.update(-grad, opt_state, z)
        return project_z(optax.apply_updates(z, updates)), opt_state, obj

    jax.block_until_ready(adam_step(z0[0], opt.init(z0[0]), rewards[0], z0[0]))

    def stepwise():
        out = []
        for p in range(looped):
            z, opt_state, best, best_obj = z0[p], opt.init(z0[p]), z0[p], -np.inf
            for _ in range(config.steps):
                new_z, opt_state, obj = adam_step(z, opt_state, rewards[p], z0[p])
                if float(obj) > best_obj:  # host sync each step, as a Python loop does
                    best, best_obj = z, float(obj)
                z = new_z
            out.append(best)
        return out

    return _time(stepwise)


def run(size, num_prompts, steps, num_samples, num_starts, trace=None, loop_prompts=None):
    """One result line; the two loops run the first `loop_prompts` prompts (all by default: a
    loop's time per prompt does not depend on how many prompts it runs)."""
    looped = min(num_prompts, loop_prompts or num_prompts)
    agent, params, starts, next_obs, rewards, z0 = _setup(size, num_prompts, num_samples,
                                                          num_starts)
    config = ZOLConfig(steps=steps)
    gamma = agent.config.discount
    nets = agent.networks

    t0 = time.perf_counter()
    batched = jax.jit(lambda r, z: zol_search(nets, params, starts, next_obs, r, z, gamma,
                                              config)[0]).lower(rewards, z0).compile()
    jax.block_until_ready(batched(rewards, z0))
    compile_batched = time.perf_counter() - t0
    t_batched = _time(lambda: batched(rewards, z0))
    summary = None
    if trace:
        with jax.profiler.trace(trace):
            jax.block_until_ready(batched(rewards, z0))
        summary = trace_summary.summarize(trace, batched.as_text(), per=num_prompts)

    single = jax.jit(lambda r, z: zol_search(nets, params, starts, next_obs, r[None], z[None],
                                             gamma, config)[0][0])
    jax.block_until_ready(single(rewards[0], z0[0]))
    t_loop = _time(lambda: [single(rewards[p], z0[p]) for p in range(looped)])

    t_step = _stepwise_seconds(nets, params, starts, next_obs, rewards, z0, gamma, config,
                               looped)
    row = {
        "benchmark": "zol_search", "device": jax.devices()[0].device_kind, "size": size,
        "network": SIZES[size], "prompts": num_prompts, "loop_prompts": looped,
        "adam_steps": steps,
        "num_samples": num_samples, "num_starts": num_starts,
        "compile_s_batched": round(compile_batched, 2),
        "s_per_prompt": {"batched": t_batched / num_prompts,
                         "loop_of_compiled_single": t_loop / looped,
                         "stepwise_dispatch": t_step / looped},
        "speedup_vs_single_loop": t_loop / looped / (t_batched / num_prompts),
        "speedup_vs_stepwise": t_step / looped / (t_batched / num_prompts),
    }
    flops = search_flops(size, num_prompts, steps, num_samples, num_starts)
    return {**row, **_achieved(row, flops), "trace_summary_per_prompt": summary,
            "jax": jax.__version__}


def recount(path: str) -> None:
    """Adds the FLOP figures to the lines of a results file measured before they existed (the
    measured times are kept)."""
    for line in open(path):
        if line.startswith("{"):
            row = json.loads(line)
            flops = search_flops(row["size"], row["prompts"], row["adam_steps"],
                                 row["num_samples"], row["num_starts"])
            print(json.dumps({**row, **_achieved(row, flops), "recounted_from": path}),
                  flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="small", choices=sorted(SIZES))
    parser.add_argument("--prompts", default="1,8,64")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--num-starts", type=int, default=512)
    parser.add_argument("--loop_prompts", type=int, default=None,
                        help="run the two loops on this many prompts only (per-prompt times)")
    parser.add_argument("--trace", default=None,
                        help="trace the one-call search here and summarise it (per prompt)")
    parser.add_argument("--recount", default=None, metavar="FILE",
                        help="add FLOPs, TFLOP/s and MFU to FILE's lines")
    args = parser.parse_args()
    if args.recount:
        recount(args.recount)
        return
    for p in (int(x) for x in args.prompts.split(",")):
        trace = args.trace and f"{args.trace}/p{p}"
        print(json.dumps(run(args.size, p, args.steps, args.num_samples, args.num_starts,
                             trace, args.loop_prompts)), flush=True)


if __name__ == "__main__":
    main()
