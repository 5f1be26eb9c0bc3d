"""The tabular experiment: collect a dataset in a finite MDP, train FB on it (policy evaluation of
the behaviour policy and/or control), and measure it against the exact answers."""

import hashlib
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.data.sharding import (
    make_mesh,
    process_rows,
    replicate,
    shard_dataset,
    sharded_train_steps,
    to_host,
)
from fbjax.fb.config import FBConfig
from fbjax.fb.learner import FBAgent
from fbjax.nets import project_z
from fbjax.tabular.dataset import TabularData, collect
from fbjax.tabular.evaluate import goal_reaching, learned_successor_measure, mean_row_tv
from fbjax.tabular.exact import successor_measure, uniform_policy
from fbjax.tabular.mdp import FiniteMDP, four_rooms, random_mdp
from fbjax.train.checkpoint import Checkpointer
from fbjax.train.loop import ProgressFn, train

PHASES = ("policy_eval", "control")


def build_mdp(env: dict[str, Any]) -> FiniteMDP:
    name = env.get("name")
    if name == "four_rooms":
        return four_rooms(env.get("size", 7), env.get("slip", 0.0))
    if name == "random":
        return random_mdp(env["num_states"], env["num_actions"], env.get("seed", 0),
                          env.get("branching"))
    raise ValueError(f"env.name: unknown finite MDP {name!r}; expected 'four_rooms' or 'random'")


def collect_uniform(mdp: FiniteMDP, data: dict[str, Any]) -> TabularData:
    """The reward-free dataset: the uniform behaviour policy from rho0."""
    policy = uniform_policy(mdp.num_states, mdp.num_actions)
    return collect(mdp, policy, data["num_episodes"], data["episode_length"], data.get("seed", 0))


def make_agent(mdp: FiniteMDP, fb: FBConfig, phase: str) -> FBAgent:
    """A discrete FB agent on one-hot states; in `policy_eval` it evaluates the uniform policy."""
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
    num_actions = mdp.num_actions
    target_policy = None
    if phase == "policy_eval":
        def target_policy(obs):
            return jnp.full((obs.shape[0], num_actions), 1.0 / num_actions)
    return FBAgent(fb, mdp.num_states, num_actions=num_actions, target_policy=target_policy)


def evaluate_phase(agent: FBAgent, params, mdp: FiniteMDP, rho: np.ndarray, phase: str,
                   num_goals: int, seed: int) -> dict[str, Any]:
    """policy_eval: mean row TV of the learned M_hat against the exact M of the uniform policy
    (for 4 random z; F should ignore z in this mode). control: goal reaching and TV per goal."""
    if phase == "policy_eval":
        exact = successor_measure(mdp.transitions, uniform_policy(mdp.num_states,
                                                                  mdp.num_actions),
                                  agent.config.discount)
        zs = np.asarray(project_z(jax.random.normal(jax.random.PRNGKey(seed),
                                                    (4, agent.config.z_dim))))
        tvs = [mean_row_tv(learned_successor_measure(agent, params, mdp, rho, z), exact)
               for z in zs]
        return {"tv_mean": float(np.mean(tvs)), "tv_per_z": tvs}
    goals = np.linspace(0, mdp.num_states - 1, num_goals).round().astype(int).tolist()
    rows = goal_reaching(agent, params, mdp, goals, rho=rho)
    return {
        "goals": rows,
        "success_mean": float(np.mean([r["success"] for r in rows])),
        "success_min": float(np.min([r["success"] for r in rows])),
        "tv_mean": float(np.mean([r["tv"] for r in rows])),
    }


def train_phase(config: dict[str, Any], phase: str, workdir: str,
                progress_fn: ProgressFn | None = None):
    """Trains (or resumes) one phase under `workdir/phase`; returns (mdp, data, agent, state).

    `config` is the plain-dict experiment config (see experiments/configs/tabular.py)."""
    mdp = build_mdp(config["env"])
    data = collect_uniform(mdp, config["data"])
    fb = FBConfig.from_dict(config["fb"])
    if fb.z_dim < mdp.num_states:
        print(f"[{phase}] note: z_dim={fb.z_dim} < |S|={mdp.num_states}: FB cannot be exact",
              flush=True)
    agent = make_agent(mdp, fb, phase)
    checkpointer = Checkpointer(os.path.join(workdir, phase),
                                max_to_keep=config.get("keep_checkpoints", 3))
    state = agent.init(jax.random.PRNGKey(config["seed"]))
    transitions, make_steps = data.to_transitions(mdp), None
    if config.get("sharded", False) or jax.process_count() > 1:
        transitions, state, make_steps = _shard(agent, transitions, state,
                                                config.get("per_device_batch", 0))
    if checkpointer.latest_step() is not None:
        differ = _differences(checkpointer.read_config(), config)
        if differ:
            raise ValueError(f"{checkpointer.directory} holds a run with another config "
                             f"(differs in {differ}); resume with the same config (only the "
                             "step counts may grow) or use a fresh workdir")
        state, _ = checkpointer.restore(state)
        print(f"[{phase}] resumed from step {int(to_host(state.step))}", flush=True)
    checkpointer.write_config(config)
    state = train(agent, state, transitions, num_steps=config["phases"][phase],
                  seed=config["seed"], steps_per_call=config["steps_per_call"],
                  progress_fn=progress_fn, checkpointer=checkpointer,
                  save_every=config["save_every"], make_steps=make_steps)
    step = int(to_host(state.step))
    if checkpointer.latest_step() != step:
        checkpointer.save(step, state, {"step": step})
    checkpointer.close()
    return mdp, data, agent, state


def run_phase(config: dict[str, Any], phase: str, workdir: str,
              progress_fn: ProgressFn | None = None) -> dict[str, Any]:
    """`train_phase`, then `evaluate_phase` against the exact answers."""
    mdp, data, agent, state = train_phase(config, phase, workdir, progress_fn)
    rho = data.next_state_distribution(mdp.num_states)
    params = to_host(state.params)
    result = evaluate_phase(agent, params, mdp, rho, phase, config["num_goals"], config["seed"])
    return {"phase": phase, "mdp": mdp.name, "num_states": mdp.num_states,
            "steps": int(to_host(state.step)), "params_digest": params_digest(params), **result}


def params_digest(params) -> str:
    """A short hash of parameter values, to compare runs or processes bit for bit."""
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(params):
        digest.update(np.ascontiguousarray(leaf).tobytes())
    return digest.hexdigest()[:16]


def _shard(agent: FBAgent, transitions, state, per_device_batch: int):
    """Rows of this process sharded over the mesh, the state replicated, sharded steps."""
    mesh = make_mesh()
    rows = process_rows(len(transitions))
    local = jax.tree.map(lambda x: np.asarray(x)[rows], transitions)
    per_device = per_device_batch or max(agent.config.batch_size // jax.device_count(), 1)
    return (shard_dataset(local, mesh), replicate(state, mesh),
            lambda n: sharded_train_steps(agent, mesh, per_device, n))


_RESUMABLE_CHANGES = ("phases", "workdir")


def _differences(saved: dict[str, Any], config: dict[str, Any]) -> list[str]:
    keys = (set(saved) | set(config)) - set(_RESUMABLE_CHANGES)
    return sorted(k for k in keys if saved.get(k) != config.get(k))
