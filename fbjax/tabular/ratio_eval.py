"""Accuracy of the free FB density ratio (and of DualDICE) against the exact ratio, for many
policies pi_z of a discrete FB model trained on a finite MDP."""

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.dice import DualDICE, DualDICEConfig
from fbjax.fb.inference import act, goal_inference, reward_inference
from fbjax.fb.learner import FBAgent
from fbjax.tabular.dataset import TabularData
from fbjax.tabular.exact import discounted_return, occupancy
from fbjax.tabular.mdp import FiniteMDP
from fbjax.types import Params
from fbjax.zol.ope import fb_value_estimate, ratio_estimate
from fbjax.zol.ratio import density_ratio, positive_ratio, sample_start_states


def prompt_policies(agent: FBAgent, params: Params, mdp: FiniteMDP, data: TabularData,
                    num_goals: int, num_rewards: int, seed: int):
    """z for `num_goals` goal prompts and `num_rewards` random-reward prompts, the reward of each
    prompt on states (P, S) (a goal's indicator, or the random reward), and the greedy policy
    tables pi_z (P, S, A)."""
    rng = np.random.default_rng(seed)
    goals = rng.choice(mdp.num_states, size=num_goals, replace=num_goals > mdp.num_states)
    goal_rewards = np.eye(mdp.num_states)[goals]
    random_rewards = rng.normal(size=(num_rewards, mdp.num_states))
    nets, b_params = agent.networks, params.backward
    z_goal = goal_inference(nets, b_params, jnp.asarray(mdp.one_hot(goals)))
    z_reward = reward_inference(nets, b_params, jnp.asarray(mdp.one_hot(data.next_state)),
                                jnp.asarray(random_rewards[:, data.next_state], jnp.float32))
    zs = jnp.concatenate([z_goal, z_reward])
    states = jnp.asarray(mdp.one_hot(np.arange(mdp.num_states)))
    actions = jax.vmap(lambda z: act(nets, params, states,
                                     jnp.broadcast_to(z, (mdp.num_states, z.shape[0]))))(zs)
    tables = np.eye(mdp.num_actions)[np.asarray(actions)]
    kinds = ["goal"] * num_goals + ["reward"] * num_rewards
    return zs, np.concatenate([goal_rewards, random_rewards]), tables, kinds


def start_distribution(data: TabularData, num_states: int, source: str) -> np.ndarray:
    """rho0 that each source stands for: init = episode starts, data = dataset states, mix."""
    init = np.bincount(data.state[data.start], minlength=num_states) / data.start.sum()
    anywhere = np.bincount(data.state, minlength=num_states) / len(data.state)
    return {"init": init, "data": anywhere, "mix": 0.5 * (init + anywhere)}[source]


def distribution_from_weights(weights: np.ndarray, next_states: np.ndarray,
                              num_states: int) -> np.ndarray:
    """The state distribution the weighted sample stands for: sum_i w_i 1[s'_i = s] / sum_i w_i."""
    q = np.bincount(next_states, weights=np.maximum(weights, 0.0), minlength=num_states)
    return q / max(q.sum(), 1e-12)


def tv(p: np.ndarray, q: np.ndarray) -> float:
    return float(0.5 * np.abs(p - q).sum())


def fb_ratio_metrics(agent: FBAgent, params: Params, mdp: FiniteMDP, data: TabularData, zs,
                     rewards, tables, *, source: str, transform: str, beta: float,
                     num_samples: int, num_starts: int, seed: int) -> dict:
    """Per policy: TV(w rho, d^pi) and OPE errors of the FB ratio on `num_samples` next states."""
    gamma = agent.config.discount
    rng = np.random.default_rng(seed)
    sample = rng.integers(0, len(data.next_state), num_samples)
    next_states = data.next_state[sample]
    next_obs = jnp.asarray(mdp.one_hot(next_states))
    starts = sample_start_states(data.to_transitions(mdp), source, jax.random.PRNGKey(seed),
                                 num_starts)
    nets = agent.networks

    def per_prompt(z, r):
        linear = density_ratio(nets, params, starts, next_obs, z, gamma)
        w = positive_ratio(linear, transform, beta)
        return w, ratio_estimate(w, r, gamma), fb_value_estimate(nets, params, starts,
                                                                  next_obs, r, z)

    r_sample = jnp.asarray(rewards[:, next_states], jnp.float32)
    w, j_ratio, j_fb = map(np.asarray, jax.jit(jax.vmap(per_prompt))(zs, r_sample))
    rho0 = start_distribution(data, mdp.num_states, source)
    rho = data.next_state_distribution(mdp.num_states)
    rows = []
    for p in range(len(zs)):
        d = occupancy(mdp.transitions, tables[p], rho0, gamma)
        j = discounted_return(mdp.transitions, tables[p], rho0, rewards[p], gamma)
        exact_w = np.where(rho > 0, d / np.where(rho > 0, rho, 1.0), 0.0)
        rows.append({
            "tv": tv(distribution_from_weights(w[p], next_states, mdp.num_states), d),
            # what the exact ratio itself scores on the same sample: the sampling floor
            "tv_exact_on_sample": tv(distribution_from_weights(
                exact_w[next_states], next_states, mdp.num_states), d),
            "ope_error": abs(float(j_ratio[p]) - j) / max(abs(j), 1e-8),
            "fb_value_error": abs(float(j_fb[p]) - j) / max(abs(j), 1e-8),
            "exact_return": j,
        })
    return {"rows": rows, "weights": w, "next_states": next_states}


def dice_metrics(mdp: FiniteMDP, data: TabularData, rewards, tables, gamma: float,
                 config: DualDICEConfig, seed: int) -> dict:
    """DualDICE trained per policy (all policies in one vmapped program, `init` start states)."""
    config = dataclasses.replace(config, discount=gamma)
    dice = DualDICE(config, mdp.num_states, mdp.num_actions)
    ds = data.to_transitions(mdp)
    start_obs = ds.obs[np.asarray(data.start)]
    tables_j = jnp.asarray(tables, jnp.float32)

    def train_one(table, key):
        state, _ = dice.train(dice.init(key), ds, lambda o: o @ table, start_obs, key)
        return dice.state_action_ratio(state, ds.obs, ds.action)

    keys = jax.random.split(jax.random.PRNGKey(seed), len(tables))
    run_one = jax.jit(train_one).lower(tables_j[0], keys[0]).compile()
    run_all = jax.jit(jax.vmap(train_one)).lower(tables_j, keys).compile()
    start = time.perf_counter()
    jax.block_until_ready(run_one(tables_j[0], keys[0]))
    single_s = time.perf_counter() - start
    start = time.perf_counter()
    zeta = np.asarray(run_all(tables_j, keys))
    batched_s = time.perf_counter() - start
    # The same post-processing as the FB ratio: clip at 0, mean 1, clip at 20, mean 1.
    zeta = np.asarray(jax.vmap(lambda x: positive_ratio(x, "linear"))(jnp.asarray(zeta)))
    rho0 = start_distribution(data, mdp.num_states, "init")
    rows = []
    for p in range(len(tables)):
        d = occupancy(mdp.transitions, tables[p], rho0, gamma)
        j = discounted_return(mdp.transitions, tables[p], rho0, rewards[p], gamma)
        # zeta(s, a) of each transition re-weights its next state: E_D[zeta | s'] = d^pi / rho.
        j_hat = float(np.mean(zeta[p] * rewards[p][data.next_state])) / (1 - gamma)
        rows.append({"tv": tv(distribution_from_weights(zeta[p], data.next_state,
                                                        mdp.num_states), d),
                     "ope_error": abs(j_hat - j) / max(abs(j), 1e-8), "exact_return": j})
    return {"rows": rows, "train_seconds_one_policy": single_s,
            "train_seconds_all_policies_batched": batched_s, "zeta": zeta}
