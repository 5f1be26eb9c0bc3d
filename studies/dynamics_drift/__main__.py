"""How far fbjax's MJX trajectories drift from DM Control's under the same actions.

  python -m studies.dynamics_drift [--domains=walker,quadruped] [--episodes=8] [--steps=200]

For every domain: episodes start from DM Control's own resets, then the same uniform random
action sequence drives four simulations, and the qpos of each is compared step by step:

  dm_control        DM Control's environment (its XML, its solver settings, MuJoCo C, float64);
  chaos             the same, with every initial velocity moved by 1e-6: how fast two runs of
                    the *same* simulator separate anyway (the floor any comparison can reach);
  fbjax_model_c     fbjax's model (Playground's XML or fbjax's own MJCF: fewer solver
                    iterations) stepped by MuJoCo C in float64: the model's share of the drift;
  fbjax_mjx         fbjax's domain on MJX in float32: what fbjax users get.

Printed and written (studies/dynamics_drift/results/dynamics_drift.{json,md}): per simulation,
the median over episodes of the RMS qpos difference from dm_control after 1, 10, 50 and `--steps`
control steps, and the median number of steps until the root position is 1 cm away; and the RMS
difference of fbjax_mjx from fbjax_model_c (MJX's own share).
"""

import argparse
import json
import os
import time

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from mujoco import mjx

import fbjax.envs as envs
from fbjax import provenance
from fbjax.envs.base import EnvState

CHECKPOINTS = (1, 10, 50)
PERTURBATION = 1e-6
ROOT_DISTANCE = 0.01


def _dm_control_env(name: str, seed: int):
    from dm_control import suite

    task = {"point_mass": ("point_mass", "easy"), "point_mass_maze": None,
            "walker": ("walker", "walk"), "cheetah": ("cheetah", "run"),
            "hopper": ("hopper", "hop"), "quadruped": ("quadruped", "walk"),
            "humanoid": ("humanoid", "walk")}[name]
    if task is None:
        raise ValueError(f"{name}: DM Control has no such environment to compare with")
    return suite.load(*task, task_kwargs={"random": seed})


def _root_slice(mj_model) -> slice:
    """qpos entries of the root's position: a free joint's xyz, or the planar root's slides."""
    if mj_model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE:
        return slice(0, 3)
    slides = [int(mj_model.jnt_qposadr[j]) for j in range(mj_model.njnt)
              if mj_model.jnt_type[j] == mujoco.mjtJoint.mjJNT_SLIDE]
    return slice(min(slides), max(slides) + 1) if slides else slice(0, 0)


def _dm_rollout(env, start, actions, perturb=0.0):
    physics = env.physics
    with physics.reset_context():
        physics.data.qpos[:] = start["qpos"]
        physics.data.qvel[:] = start["qvel"] + perturb
        physics.data.act[:] = start["act"]
    out = []
    for action in actions:
        physics.set_control(action)
        physics.step(env._n_sub_steps)
        out.append(physics.data.qpos.copy())
    return np.array(out)


def _c_rollout(domain, start, actions):
    """fbjax's model in MuJoCo C (float64): ctrl clipped to [-1, 1] as `Domain.step` does."""
    model = domain.mj_model
    data = mujoco.MjData(model)
    data.qpos[:], data.qvel[:], data.act[:] = start["qpos"], start["qvel"], start["act"]
    out = []
    for action in actions:
        data.ctrl[:] = np.clip(action, -1, 1)
        mujoco.mj_step(model, data, domain.n_substeps)
        out.append(data.qpos.copy())
    return np.array(out)


def _mjx_rollouts(domain, starts, actions):
    def one(qpos, qvel, act, actions):
        data = domain.refresh(domain.model, mjx.make_data(domain.model).replace(
            qpos=qpos, qvel=qvel, act=act))
        state = EnvState(data=data, obs=domain.observe(data), t=jnp.zeros((), jnp.int32))

        def step(state, action):
            state = domain.step(state, action)
            return state, state.data.qpos

        return jax.lax.scan(step, state, actions)[1]

    stacked = {k: jnp.asarray(np.stack([s[k] for s in starts]), jnp.float32)
               for k in ("qpos", "qvel", "act")}
    run = jax.jit(jax.vmap(one))
    return np.asarray(run(stacked["qpos"], stacked["qvel"], stacked["act"],
                          jnp.asarray(actions, jnp.float32)), np.float64)


def measure(name: str, episodes: int, steps: int, seed: int = 0) -> dict:
    domain = envs.make(name)
    env = _dm_control_env(name, seed)
    if env.physics.model.nq != domain.mj_model.nq:
        raise ValueError(f"{name}: DM Control's model has nq={env.physics.model.nq}, "
                         f"fbjax's {domain.mj_model.nq}")
    rng = np.random.default_rng(seed)
    starts, actions = [], rng.uniform(-1, 1, (episodes, steps, domain.action_dim))
    for _ in range(episodes):
        env.reset()
        p = env.physics.data
        starts.append({"qpos": p.qpos.copy(), "qvel": p.qvel.copy(), "act": p.act.copy()})
    runs = {"dm_control": [], "chaos": [], "fbjax_model_c": []}
    for start, episode_actions in zip(starts, actions, strict=True):
        runs["dm_control"].append(_dm_rollout(env, start, episode_actions))
        runs["chaos"].append(_dm_rollout(env, start, episode_actions, PERTURBATION))
        runs["fbjax_model_c"].append(_c_rollout(domain, start, episode_actions))
    began = time.perf_counter()
    runs["fbjax_mjx"] = list(_mjx_rollouts(domain, starts, actions))
    mjx_s = time.perf_counter() - began
    reference = np.array(runs["dm_control"])
    root = _root_slice(domain.mj_model)
    result = {"domain": name, "episodes": episodes, "steps": steps,
              "control_dt": float(env.control_timestep()),
              "dm_control_solver": [int(env.physics.model.opt.iterations),
                                    int(env.physics.model.opt.ls_iterations)],
              "fbjax_solver": [int(domain.mj_model.opt.iterations),
                               int(domain.mj_model.opt.ls_iterations)],
              "dm_control_timestep": float(env.physics.model.opt.timestep),
              "fbjax_timestep": float(domain.mj_model.opt.timestep),
              "mjx_rollouts_s_with_compile": round(mjx_s, 1), "simulations": {}}
    for sim in ("chaos", "fbjax_model_c", "fbjax_mjx"):
        diff = np.array(runs[sim]) - reference  # (E, T, nq)
        rms = np.sqrt((diff ** 2).mean(axis=2))
        root_gap = np.linalg.norm(diff[:, :, root], axis=2)
        away = [int(np.argmax(g > ROOT_DISTANCE)) + 1 if (g > ROOT_DISTANCE).any() else None
                for g in root_gap]
        steps_away = [a if a is not None else steps + 1 for a in away]
        result["simulations"][sim] = {
            **{f"rms_qpos_at_{t}": float(np.median(rms[:, t - 1]))
               for t in (*CHECKPOINTS, steps) if t <= steps},
            "median_steps_until_root_1cm_away": float(np.median(steps_away)),
            "episodes_never_1cm_away": sum(a is None for a in away)}
    # MJX against MuJoCo C on the same (fbjax's) model: MJX's own share of the drift.
    own = np.sqrt(((np.array(runs["fbjax_mjx"]) - np.array(runs["fbjax_model_c"])) ** 2)
                  .mean(axis=2))
    result["mjx_vs_model_c"] = {f"rms_qpos_at_{t}": float(np.median(own[:, t - 1]))
                                for t in (*CHECKPOINTS, steps) if t <= steps}
    return result


def _markdown(rows, steps, meta) -> str:
    cols = [t for t in (*CHECKPOINTS, steps) if t <= steps]
    lines = ["# MJX trajectories next to DM Control's", "",
             f"Commit {meta['commit']}; `{meta['command']}`; {meta['device']}; "
             f"jax {meta['packages'].get('jax')}, mujoco {meta['packages'].get('mujoco')}.", "",
             "Median over episodes of the RMS qpos difference from DM Control's run (same start, "
             "same actions); 'steps to 1 cm': median control steps until the root position is "
             "1 cm from DM Control's (more than the horizon: never).", "",
             "| Domain | Solver iterations DMC / fbjax | Simulation | "
             + " | ".join(f"RMS at {t}" for t in cols) + " | Steps to 1 cm |",
             "|---|---|---|" + "---|" * (len(cols) + 1)]
    for row in rows:
        for sim, values in row["simulations"].items():
            lines.append(
                f"| {row['domain']} | {row['dm_control_solver'][0]} / {row['fbjax_solver'][0]} "
                f"| {sim} | " + " | ".join(f"{values[f'rms_qpos_at_{t}']:.2g}" for t in cols)
                + f" | {values['median_steps_until_root_1cm_away']:g} |")
        own = row["mjx_vs_model_c"]
        lines.append(
            f"| {row['domain']} | | fbjax_mjx vs fbjax_model_c | "
            + " | ".join(f"{own[f'rms_qpos_at_{t}']:.2g}" for t in cols) + " | |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--domains", default="point_mass,walker,cheetah,hopper,quadruped,humanoid")
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--out", default="studies/dynamics_drift/results/dynamics_drift")
    args = parser.parse_args()
    rows = []
    for name in args.domains.split(","):
        row = measure(name, args.episodes, args.steps)
        print(json.dumps(row), flush=True)
        rows.append(row)
    meta = provenance.of_args("studies.dynamics_drift", args)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".json", "w") as f:
        json.dump({"provenance": meta, "rows": rows}, f, indent=1)
    with open(args.out + ".md", "w") as f:
        f.write(_markdown(rows, args.steps, meta))
    print(f"wrote {args.out}.json and .md")


if __name__ == "__main__":
    main()
