"""Reward-free datasets of a finite MDP, collected with any behaviour policy."""

import dataclasses

import jax.numpy as jnp
import numpy as np

from fbjax.tabular.mdp import FiniteMDP
from fbjax.types import Transition


@dataclasses.dataclass(frozen=True)
class TabularData:
    """Integer transitions; `start[i]` marks the first transition of an episode."""

    state: np.ndarray
    action: np.ndarray
    next_state: np.ndarray
    start: np.ndarray

    def next_state_distribution(self, num_states: int) -> np.ndarray:
        """rho: the empirical distribution of next states."""
        return np.bincount(self.next_state, minlength=num_states) / len(self.next_state)

    def to_transitions(self, mdp: FiniteMDP) -> Transition:
        """One-hot observations, int32 actions, no terminals (episodes are truncated)."""
        return Transition(
            obs=jnp.asarray(mdp.one_hot(self.state)),
            action=jnp.asarray(self.action, jnp.int32),
            next_obs=jnp.asarray(mdp.one_hot(self.next_state)),
            terminal=jnp.zeros(len(self.state), jnp.float32),
            start=jnp.asarray(self.start, jnp.float32),
        )


def collect(mdp: FiniteMDP, policy: np.ndarray, num_episodes: int, episode_length: int,
            seed: int = 0) -> TabularData:
    """Runs `num_episodes` episodes of `episode_length` steps from rho0 under `policy` (S, A)."""
    if policy.shape != (mdp.num_states, mdp.num_actions):
        raise ValueError(f"collect: policy must be (S, A) = {(mdp.num_states, mdp.num_actions)},"
                         f" got {policy.shape}")
    if num_episodes < 1 or episode_length < 1:
        raise ValueError(f"collect: need num_episodes >= 1 and episode_length >= 1, got "
                         f"{num_episodes} and {episode_length}")
    rng = np.random.default_rng(seed)
    states = np.zeros((num_episodes, episode_length + 1), np.int64)
    actions = np.zeros((num_episodes, episode_length), np.int64)
    states[:, 0] = rng.choice(mdp.num_states, size=num_episodes, p=mdp.initial)
    action_cdf = np.cumsum(policy, axis=1)
    next_cdf = np.cumsum(mdp.transitions, axis=2)
    for t in range(episode_length):
        s = states[:, t]
        a = _sample_rows(action_cdf[s], rng)
        actions[:, t] = a
        states[:, t + 1] = _sample_rows(next_cdf[s, a], rng)
    start = np.zeros((num_episodes, episode_length), bool)
    start[:, 0] = True
    return TabularData(states[:, :-1].ravel(), actions.ravel(), states[:, 1:].ravel(),
                       start.ravel())


def _sample_rows(cdf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One categorical sample per row of a (n, k) cumulative-distribution array."""
    u = rng.random((cdf.shape[0], 1))
    return np.minimum((u > cdf).sum(axis=1), cdf.shape[1] - 1)
