"""The tabular pipeline: collect a dataset in a finite MDP, train FB on it (policy evaluation of
the behaviour policy and/or control), and measure it against the exact answers. Every function
takes the typed `TabularConfig`; each phase is a `train_run` in WORKDIR/PHASE."""

import dataclasses
import hashlib
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.configs import to_dict
from fbjax.fb.config import FBConfig
from fbjax.fb.learner import FBAgent
from fbjax.nets import project_z
from fbjax.pipeline.config import MDPConfig, TabularConfig, TabularDataConfig
from fbjax.tabular.dataset import TabularData, collect
from fbjax.tabular.evaluate import goal_reaching, learned_successor_measure, mean_row_tv
from fbjax.tabular.exact import successor_measure, uniform_policy
from fbjax.tabular.mdp import FiniteMDP, four_rooms, random_mdp
from fbjax.train.loop import ProgressFn, print_progress
from fbjax.train.run import train_run
from fbjax.train.sharding import to_host

PHASES = ("policy_eval", "control")


def build_mdp(env: MDPConfig) -> FiniteMDP:
    if env.name == "four_rooms":
        return four_rooms(env.size, env.slip)
    return random_mdp(env.num_states, env.num_actions, env.seed, env.branching)


def collect_uniform(mdp: FiniteMDP, data: TabularDataConfig) -> TabularData:
    """The reward-free dataset: the uniform behaviour policy from rho0."""
    policy = uniform_policy(mdp.num_states, mdp.num_actions)
    return collect(mdp, policy, data.num_episodes, data.episode_length, data.seed)


def phase_steps(config: TabularConfig, phase: str) -> int:
    return config.policy_eval_steps if phase == "policy_eval" else config.train.num_steps


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


def train_phase(config: TabularConfig, phase: str, workdir: str,
                progress_fn: ProgressFn | None = print_progress):
    """Trains (or resumes) one phase under `workdir/phase`; returns (mdp, data, agent, state)."""
    mdp = build_mdp(config.env)
    data = collect_uniform(mdp, config.data)
    if config.fb.z_dim < mdp.num_states:
        print(f"[{phase}] note: z_dim={config.fb.z_dim} < |S|={mdp.num_states}: FB cannot be "
              "exact", flush=True)
    agent = make_agent(mdp, config.fb, phase)
    description = {"phase": phase, "env": to_dict(config.env), "data": to_dict(config.data),
                   "fb": to_dict(config.fb)}
    train = dataclasses.replace(config.train, num_steps=phase_steps(config, phase))
    state = train_run(agent, data.to_transitions(mdp), os.path.join(workdir, phase), description,
                      train, config.seed, progress_fn, label=f"[{phase}] ")
    return mdp, data, agent, state


def run_phase(config: TabularConfig, phase: str, workdir: str,
              progress_fn: ProgressFn | None = print_progress) -> dict[str, Any]:
    """`train_phase`, then `evaluate_phase` against the exact answers."""
    mdp, data, agent, state = train_phase(config, phase, workdir, progress_fn)
    rho = data.next_state_distribution(mdp.num_states)
    params = to_host(state.params)
    result = evaluate_phase(agent, params, mdp, rho, phase, config.num_goals, config.seed)
    return {"phase": phase, "mdp": mdp.name, "num_states": mdp.num_states,
            "steps": int(to_host(state.step)), "params_digest": params_digest(params), **result}


def params_digest(params) -> str:
    """A short hash of parameter values, to compare runs or processes bit for bit."""
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(params):
        digest.update(np.ascontiguousarray(leaf).tobytes())
    return digest.hexdigest()[:16]
