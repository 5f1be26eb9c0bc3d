"""ZOL latent search: P prompts in one compiled call vs a Python loop of single-prompt compiled
calls vs a loop that dispatches one Adam step at a time from Python (as the published PyTorch code
runs it).

  python benchmarks/zol_search.py --size=small --prompts=1,8,64 --steps=100
  python benchmarks/zol_search.py --size=full --prompts=1,8 --steps=10      # CPU: few steps

Prints one JSON line per (size, P): seconds per prompt for each way, and both speed-ups.
"""

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

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


def run(size, num_prompts, steps, num_samples, num_starts):
    agent, params, starts, next_obs, rewards, z0 = _setup(size, num_prompts, num_samples,
                                                          num_starts)
    config = ZOLConfig(steps=steps)
    gamma = agent.config.discount
    nets = agent.networks

    batched = jax.jit(lambda r, z: zol_search(nets, params, starts, next_obs, r, z, gamma,
                                              config)[0])
    t0 = time.perf_counter()
    jax.block_until_ready(batched(rewards, z0))
    compile_batched = time.perf_counter() - t0
    t_batched = _time(lambda: batched(rewards, z0))

    single = jax.jit(lambda r, z: zol_search(nets, params, starts, next_obs, r[None], z[None],
                                             gamma, config)[0][0])
    jax.block_until_ready(single(rewards[0], z0[0]))
    t_loop = _time(lambda: [single(rewards[p], z0[p]) for p in range(num_prompts)])

    # One Adam step per Python dispatch, best iterate tracked on the host.
    b = nets.backward(params["backward"], next_obs)
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
        for p in range(num_prompts):
            z, opt_state, best, best_obj = z0[p], opt.init(z0[p]), z0[p], -np.inf
            for _ in range(steps):
                new_z, opt_state, obj = adam_step(z, opt_state, rewards[p], z0[p])
                if float(obj) > best_obj:  # host sync each step, as a Python loop does
                    best, best_obj = z, float(obj)
                z = new_z
            out.append(best)
        return out

    t_step = _time(stepwise)
    return {
        "benchmark": "zol_search", "device": jax.devices()[0].device_kind, "size": size,
        "network": SIZES[size], "prompts": num_prompts, "adam_steps": steps,
        "num_samples": num_samples, "num_starts": num_starts,
        "compile_s_batched": round(compile_batched, 2),
        "s_per_prompt": {"batched": t_batched / num_prompts,
                         "loop_of_compiled_single": t_loop / num_prompts,
                         "stepwise_dispatch": t_step / num_prompts},
        "speedup_vs_single_loop": t_loop / t_batched,
        "speedup_vs_stepwise": t_step / t_batched,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="small", choices=sorted(SIZES))
    parser.add_argument("--prompts", default="1,8,64")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--num-starts", type=int, default=512)
    args = parser.parse_args()
    for p in (int(x) for x in args.prompts.split(",")):
        print(json.dumps(run(args.size, p, args.steps, args.num_samples, args.num_starts)),
              flush=True)


if __name__ == "__main__":
    main()
