"""Shared type aliases and the transition batch that every learner consumes."""

from typing import Any

import flax.struct
import jax

PRNGKey = jax.Array
Params = Any  # a pytree of arrays
Metrics = dict[str, jax.Array]


@flax.struct.dataclass
class Transition:
    """A batch (or a whole dataset) of transitions, leading axis = sample.

    `action` is float [-1, 1]^|A| for continuous control and int32 for discrete actions.
    `terminal` is 1.0 where s' ends the episode (no bootstrapping from it).
    `start` is 1.0 where s is an episode's first state (a sample of rho0).
    """

    obs: jax.Array
    action: jax.Array
    next_obs: jax.Array
    terminal: jax.Array
    start: jax.Array

    def __len__(self) -> int:
        return self.obs.shape[0]


@flax.struct.dataclass
class Labelled:
    """Transitions with rewards, the batch of the value learners (TD3, FQE).

    `reward` is (N,) for one learner, or (N, n) for n copies of one (`fbjax.agent.Vmapped` with
    per_copy=("reward",)). FQE also reads `next_action`, the evaluated policy's action at s'
    ((N, |A|), or (N, |A|, n) for n policies); TD3 leaves it None."""

    obs: jax.Array
    action: jax.Array
    next_obs: jax.Array
    terminal: jax.Array
    reward: jax.Array
    next_action: jax.Array | None = None

    def __len__(self) -> int:
        return self.obs.shape[0]
