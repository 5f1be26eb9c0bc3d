"""Off-policy evaluation of pi_z from the free ratio, and FB's own value estimate."""

import jax
import jax.numpy as jnp

from fbjax.fb.networks import FBNetworks
from fbjax.types import Params
from fbjax.zol.ratio import start_state_mean


def ratio_estimate(weights: jax.Array, rewards: jax.Array, discount: float) -> jax.Array:
    """J_hat(z; r) = E_rho[w_z(s') r(s')] / (1 - gamma): the discounted return of pi_z from rho0,
    sum_t gamma^t E[r(s_{t+1})], estimated on the dataset's next states."""
    return jnp.mean(weights * rewards, axis=-1) / (1.0 - discount)


def fb_value_estimate(networks: FBNetworks, params: Params, start_obs: jax.Array,
                      next_obs: jax.Array, rewards: jax.Array, z: jax.Array,
                      start_weights: jax.Array | None = None) -> jax.Array:
    """FB's own estimate E_rho0[F_bar(s0, mu(s0, z), z)] . E_rho[r(s') B(s')].

    The reward vector is left unprojected: F . E_rho[r B] = integral of M(s0, a0, ds') r(s') is the
    value; proj() would drop its scale."""
    w_mean = start_state_mean(networks, params, start_obs, z, start_weights)
    b = jax.lax.stop_gradient(networks.backward(params.backward, next_obs))
    return w_mean @ (rewards @ b / rewards.shape[-1])
