"""How close a discrete-action FB model is to the exact answers of its finite MDP."""

import jax.numpy as jnp
import numpy as np

from fbjax.fb.inference import act, goal_inference
from fbjax.fb.learner import FBAgent
from fbjax.tabular.exact import successor_measure
from fbjax.tabular.mdp import FiniteMDP
from fbjax.types import Params


def learned_successor_measure(agent: FBAgent, params: Params, mdp: FiniteMDP, rho: np.ndarray,
                              z: np.ndarray) -> np.ndarray:
    """M_hat[s, a, s'] = mean_k F_k(s, a, z) . B(s') rho(s'), shape (S, A, S), for one z."""
    states = jnp.asarray(mdp.one_hot(np.arange(mdp.num_states)))
    zs = jnp.broadcast_to(jnp.asarray(z), (mdp.num_states, z.shape[-1]))
    f = agent.networks.forward(params.forward, states, None, zs).mean(axis=0)  # (S, A, d)
    b = agent.networks.backward(params.backward, states)  # (S, d)
    return np.asarray(jnp.einsum("sad,td->sat", f, b)) * rho[None, None, :]


def mean_row_tv(learned: np.ndarray, exact: np.ndarray) -> float:
    """Mean over (s, a) of the total-variation distance between the rows M(s, a, .) normalised to
    distributions. Learned rows are clipped at 0 first (an FB estimate can dip below 0)."""
    learned = np.maximum(learned, 0.0)
    p = learned / np.maximum(learned.sum(-1, keepdims=True), 1e-12)
    q = exact / exact.sum(-1, keepdims=True)
    return float(0.5 * np.abs(p - q).sum(-1).mean())


def greedy_policy_table(agent: FBAgent, params: Params, mdp: FiniteMDP,
                        z: np.ndarray) -> np.ndarray:
    """One-hot (S, A) table of pi_z (greedy in the pessimistic Q = F . z)."""
    states = jnp.asarray(mdp.one_hot(np.arange(mdp.num_states)))
    zs = jnp.broadcast_to(jnp.asarray(z), (mdp.num_states, z.shape[-1]))
    actions = np.asarray(act(agent.networks, params, states, zs))
    return np.eye(mdp.num_actions)[actions]


def reach_probability(mdp: FiniteMDP, policy: np.ndarray, goal: int, horizon: int) -> np.ndarray:
    """Pr(the goal is visited within `horizon` steps | s_0 = s) under `policy`, for every s."""
    p = np.einsum("sa,sat->st", policy, mdp.transitions)
    p[goal] = 0.0
    p[goal, goal] = 1.0  # absorbing goal
    dist = np.linalg.matrix_power(p, horizon)
    return dist[:, goal]


def goal_reaching(agent: FBAgent, params: Params, mdp: FiniteMDP, goals, horizon: int | None = None,
                  rho: np.ndarray | None = None) -> list[dict]:
    """For each goal state g: z = goal_inference(one_hot(g)), the greedy pi_z, and
    * success: the fraction of start states (all but g) that reach g within `horizon` steps with
      probability > 1/2 (for a deterministic MDP: that reach it);
    * tv: if `rho` is given, the mean row TV between the learned M_hat^{pi_z} and the exact
      M^{pi_z} of that very greedy policy."""
    horizon = 2 * mdp.num_states if horizon is None else horizon
    z_all = np.asarray(goal_inference(agent.networks, params.backward,
                                      jnp.asarray(mdp.one_hot(np.asarray(goals)))))
    results = []
    for goal, z in zip(goals, z_all, strict=True):
        policy = greedy_policy_table(agent, params, mdp, z)
        reach = np.delete(reach_probability(mdp, policy, int(goal), horizon), int(goal))
        row = {"goal": int(goal), "success": float((reach > 0.5).mean())}
        if rho is not None:
            exact = successor_measure(mdp.transitions, policy, agent.config.discount)
            row["tv"] = mean_row_tv(learned_successor_measure(agent, params, mdp, rho, z), exact)
        results.append(row)
    return results
