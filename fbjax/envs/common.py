"""Physics quantities the task libraries read, from refreshed MJX data."""

import jax.numpy as jnp
from mujoco import mjx

from fbjax.envs.rewards import tolerance


def subtree_linvel(data: mjx.Data, body: int) -> jnp.ndarray:
    """Linear velocity of a body's subtree centre of mass (DM Control's subtreelinvel sensor)."""
    return data._impl.subtree_linvel[body]


def subtree_angmom(data: mjx.Data, body: int) -> jnp.ndarray:
    """Angular momentum of a body's subtree about its centre of mass (`mj_subtreeVel`)."""
    return data._impl.subtree_angmom[body]


def small_control(action: jnp.ndarray) -> jnp.ndarray:
    """DM Control's control-cost factor in [0.8, 1]: (mean quadratic tolerance + 4) / 5."""
    cost = tolerance(action, margin=1.0, value_at_margin=0.0, sigmoid="quadratic").mean()
    return (cost + 4.0) / 5.0


def at_least(x: jnp.ndarray, target: float, margin: float, value_at_margin: float) -> jnp.ndarray:
    """Linear ramp that is 1 for x >= target (DM Control's move/spin rewards)."""
    return tolerance(x, bounds=(target, float("inf")), margin=margin, sigmoid="linear",
                     value_at_margin=value_at_margin)
