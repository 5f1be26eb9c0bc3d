"""Relabelling: rewards of every walker task for N stored samples, fbjax (one compiled call)
against the per-sample loop a DM Control user writes today (set qpos/qvel/ctrl, forward, call each
task's reward), timed in the same run on the same samples.

  python benchmarks/relabel.py --samples=100000

Prints one JSON line: both times, the ratio, compile time apart, and the largest disagreement.
"""

import argparse
import json
import time

import jax
import jax.numpy as jnp
import mujoco
import numpy as np

import fbjax.envs as envs
from fbjax.data.relabel import relabel


def _dm_control_loop(qpos, qvel, ctrl):
    from dm_control.suite import walker
    from dm_control.utils.rewards import tolerance

    physics = walker.Physics.from_xml_string(*walker.get_model_and_assets())
    tasks = [walker.PlanarWalker(move_speed=s, random=0) for s in (0, 1, 8)]

    def flip(sign, stand):
        mujoco.mj_subtreeVel(physics.model.ptr, physics.data.ptr)
        spin = sign * physics.named.data.subtree_angmom["torso"][1]
        turning = tolerance(spin, bounds=(5, float("inf")), margin=5, sigmoid="linear",
                            value_at_margin=0)
        return stand * (5 * turning + 1) / 6

    out = np.zeros((len(qpos), 5))
    for i in range(len(qpos)):
        physics.data.qpos[:] = qpos[i]
        physics.data.qvel[:] = qvel[i]
        physics.data.ctrl[:] = ctrl[i]
        physics.forward()
        stand, walk, run = (task.get_reward(physics) for task in tasks)
        out[i] = stand, walk, run, flip(1, stand), flip(-1, stand)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=4096)
    args = parser.parse_args()

    domain = envs.make("walker")
    rng = np.random.default_rng(0)
    keys = jax.random.split(jax.random.PRNGKey(0), args.samples)
    qpos = np.array(jax.vmap(lambda k: envs.base.randomize_joints(domain.mj_model, k))(keys))
    qpos[:, 0] = rng.uniform(-1, 1, args.samples)
    qvel = rng.normal(0, 3, (args.samples, domain.mj_model.nv)).astype(np.float32)
    ctrl = rng.uniform(-1, 1, (args.samples, domain.action_dim)).astype(np.float32)
    physics = jnp.asarray(np.concatenate([qpos, qvel], 1))
    action = jnp.asarray(ctrl)

    start = time.perf_counter()
    jax.block_until_ready(relabel(domain, physics, action, chunk_size=args.chunk))
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    ours = np.asarray(jax.block_until_ready(
        relabel(domain, physics, action, chunk_size=args.chunk)))
    fbjax_s = time.perf_counter() - start

    start = time.perf_counter()
    reference = _dm_control_loop(qpos, qvel, ctrl)
    loop_s = time.perf_counter() - start

    print(json.dumps({
        "benchmark": "relabel", "device": jax.devices()[0].device_kind, "domain": "walker",
        "tasks": list(domain.task_names), "samples": args.samples, "chunk": args.chunk,
        "fbjax_s": round(fbjax_s, 4), "fbjax_compile_s": round(compile_s - fbjax_s, 2),
        "dm_control_loop_s": round(loop_s, 3), "speedup": round(loop_s / fbjax_s, 1),
        "max_abs_diff": float(np.abs(ours - reference).max()),
    }))


if __name__ == "__main__":
    main()
