"""Exact successor measures, occupancies and density ratios of finite MDPs (SPEC section 6)."""

import numpy as np


def policy_transition(transitions: np.ndarray, policy: np.ndarray) -> np.ndarray:
    """P_pi[s, s'] = sum_a pi(a|s) P[s, a, s']; policy is (S, A) probabilities."""
    return np.einsum("sa,sat->st", policy, transitions)


def successor_measure(transitions: np.ndarray, policy: np.ndarray, gamma: float) -> np.ndarray:
    """M[s, a, s'] = sum_{t>=0} gamma^t Pr(s_{t+1} = s' | s_0 = s, a_0 = a, pi)
    = P[s, a, :] (I - gamma P_pi)^{-1}; shape (S, A, S)."""
    n = transitions.shape[0]
    resolvent = np.linalg.inv(np.eye(n) - gamma * policy_transition(transitions, policy))
    return np.einsum("sat,tu->sau", transitions, resolvent)


def occupancy(transitions: np.ndarray, policy: np.ndarray, initial: np.ndarray,
              gamma: float) -> np.ndarray:
    """d^pi = (1 - gamma) sum_{s0} rho0(s0) sum_a pi(a|s0) M(s0, a, .); a distribution over S."""
    m = successor_measure(transitions, policy, gamma)
    return (1 - gamma) * np.einsum("s,sa,sau->u", initial, policy, m)


def density_ratio(occ: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """d^pi / rho, with 0 where rho = 0 (such states are outside the data; any ratio there is
    unidentifiable from it)."""
    return np.where(rho > 0, occ / np.where(rho > 0, rho, 1.0), 0.0)


def q_values(transitions, policy, reward, gamma) -> np.ndarray:
    """Q[s, a] = sum_t gamma^t E[r(s_{t+1})] = M[s, a, :] . r, for a reward on next states."""
    return successor_measure(transitions, policy, gamma) @ reward


def discounted_return(transitions, policy, initial, reward, gamma) -> float:
    """J = E_{rho0, pi}[sum_t gamma^t r(s_{t+1})] = <d^pi, r> / (1 - gamma)."""
    return float(occupancy(transitions, policy, initial, gamma) @ reward / (1 - gamma))


def greedy_policy(q: np.ndarray) -> np.ndarray:
    """One-hot (S, A) policy of argmax_a q[s, a] (first maximiser on ties)."""
    return np.eye(q.shape[1])[np.argmax(q, axis=1)]


def uniform_policy(num_states: int, num_actions: int) -> np.ndarray:
    return np.full((num_states, num_actions), 1.0 / num_actions)
