"""DM Control's `tolerance` reward shaping, as a pure JAX function.

`tolerance(x, bounds, margin, sigmoid, value_at_margin)` is 1 inside `bounds` and decays with the
distance outside them, reaching `value_at_margin` one `margin` away. Same definition as
`dm_control.utils.rewards.tolerance` for the sigmoids the task libraries use.
"""

import math

import jax.numpy as jnp

_SIGMOIDS = ("gaussian", "linear", "quadratic")


def _sigmoid(x: jnp.ndarray, value_at_1: float, sigmoid: str) -> jnp.ndarray:
    if sigmoid == "gaussian":
        scale = math.sqrt(-2.0 * math.log(value_at_1))
        return jnp.exp(-0.5 * (x * scale) ** 2)
    if sigmoid == "linear":
        scaled = x * (1.0 - value_at_1)
        return jnp.where(jnp.abs(scaled) < 1, 1 - scaled, 0.0)
    scaled = x * math.sqrt(1.0 - value_at_1)  # quadratic
    return jnp.where(jnp.abs(scaled) < 1, 1 - scaled ** 2, 0.0)


def tolerance(x: jnp.ndarray, bounds: tuple[float, float] = (0.0, 0.0), margin: float = 0.0,
              sigmoid: str = "gaussian", value_at_margin: float = 0.1) -> jnp.ndarray:
    """1 when `bounds[0] <= x <= bounds[1]`, a sigmoid of the distance / margin otherwise."""
    if sigmoid not in _SIGMOIDS:
        raise ValueError(f"tolerance: sigmoid {sigmoid!r} is not one of {_SIGMOIDS}")
    lower, upper = bounds
    if lower > upper:
        raise ValueError(f"tolerance: bounds {bounds} have lower > upper")
    if margin < 0:
        raise ValueError(f"tolerance: margin must be >= 0, got {margin}")
    x = jnp.asarray(x)
    in_bounds = (lower <= x) & (x <= upper)
    if margin == 0:
        return jnp.where(in_bounds, 1.0, 0.0)
    distance = jnp.where(x < lower, lower - x, x - upper) / margin
    return jnp.where(in_bounds, 1.0, _sigmoid(distance, value_at_margin, sigmoid))
