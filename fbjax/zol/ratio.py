"""The density ratio an FB model gives for free (SPEC section 5).

    w_z(s') = d^{pi_z}(s') / rho(s') ~ (1 - gamma) W_z . B(s'),
    W_z = E_{s0 ~ rho0}[F_bar(s0, mu(s0, z), z)]

with F_bar the ensemble mean of F and mu the policy's mean action (the greedy action for discrete
actions). Everything here is a pure function of arrays and can be vmapped over prompts.
"""

import chex
import jax
import jax.numpy as jnp

from fbjax.fb.inference import act
from fbjax.fb.networks import FBNetworks
from fbjax.types import Params, PRNGKey, Transition

TRANSFORMS = ("linear", "softplus", "exp")
RHO0_SOURCES = ("init", "data", "mix")


def start_state_mean(networks: FBNetworks, params: Params, start_obs: jax.Array, z: jax.Array,
                     start_weights: jax.Array | None = None) -> jax.Array:
    """W_z = (weighted) mean over start states of F_bar(s0, mu(s0, z), z); (d,) for z of shape (d,).

    Gradients flow into z through F and the actor mean (not through a discrete argmax)."""
    zs = jnp.broadcast_to(z, (start_obs.shape[0], z.shape[-1]))
    if networks.discrete:
        action = jax.lax.stop_gradient(act(networks, params, start_obs, zs))
        f_all = networks.forward(params.forward, start_obs, None, zs).mean(axis=0)
        f = jnp.take_along_axis(f_all, action[:, None, None], axis=1)[:, 0]
    else:
        action = networks.actor_mean(params.actor, start_obs, zs)
        f = networks.forward(params.forward, start_obs, action, zs).mean(axis=0)
    if start_weights is None:
        return f.mean(axis=0)
    return start_weights @ f / start_weights.sum()


def linear_ratio(start_mean: jax.Array, backward_next: jax.Array, discount: float) -> jax.Array:
    """(1 - gamma) W_z . B(s') for every row of backward_next (n, d): the raw, possibly negative,
    estimate of d^{pi_z} / rho."""
    return (1.0 - discount) * backward_next @ start_mean


def positive_ratio(linear: jax.Array, transform: str = "linear", beta: float = 1.0,
                   clip: float | None = 20.0) -> jax.Array:
    """Makes the linear estimate a usable weight vector: transform, normalise to mean 1 over the
    sample, clip at `clip` (None: no clip), renormalise to mean 1.

    linear: max(w, 0); softplus: log(1 + e^w); exp: w_i ∝ exp(beta l_i - max_j beta l_j)."""
    if transform == "linear":
        w = jnp.maximum(linear, 0.0)
    elif transform == "softplus":
        w = jax.nn.softplus(linear)
    elif transform == "exp":
        scaled = beta * linear
        w = jnp.exp(scaled - jax.lax.stop_gradient(scaled.max()))
    else:
        raise ValueError(f"positive_ratio: unknown transform {transform!r}; expected one of "
                         f"{TRANSFORMS}")
    w = _mean_one(w)
    if clip is not None:
        w = _mean_one(jnp.minimum(w, clip))
    return w


def _mean_one(w: jax.Array) -> jax.Array:
    mean = w.mean()
    # All-zero weights (every linear estimate <= 0) carry no information: fall back to uniform.
    return jnp.where(mean > 0, w / jnp.where(mean > 0, mean, 1.0), jnp.ones_like(w))


def density_ratio(networks: FBNetworks, params: Params, start_obs: jax.Array,
                  next_obs: jax.Array, z: jax.Array, discount: float, transform: str | None = None,
                  beta: float = 1.0, clip: float | None = 20.0,
                  start_weights: jax.Array | None = None) -> jax.Array:
    """w_z(s') for each row of next_obs, for one z (vmap over z for many prompts).

    transform None returns the raw linear estimate; otherwise `positive_ratio` is applied."""
    chex.assert_rank([start_obs, next_obs, z], [2, 2, 1])
    chex.assert_equal_shape_suffix([start_obs, next_obs], 1)
    if start_obs.shape[-1] != networks.obs_dim or z.shape[-1] != networks.config.z_dim:
        raise ValueError(f"density_ratio: expected observations of the model's width "
                         f"{networks.obs_dim} and z of {networks.config.z_dim}; got start_obs "
                         f"{start_obs.shape}, next_obs {next_obs.shape}, z {z.shape}")
    w_mean = start_state_mean(networks, params, start_obs, z, start_weights)
    backward_next = jax.lax.stop_gradient(networks.backward(params.backward, next_obs))
    linear = linear_ratio(w_mean, backward_next, discount)
    if transform is None:
        return linear
    return positive_ratio(linear, transform, beta, clip)


def sample_start_states(dataset: Transition, source: str, key: PRNGKey, num: int) -> jax.Array:
    """`num` start states s0 ~ rho0 from a dataset: `init` = the states that start an episode,
    `data` = any dataset state (the occupancy of pi_z started from rho), `mix` = half of each."""
    if source not in RHO0_SOURCES:
        raise ValueError(f"sample_start_states: unknown source {source!r}; expected one of "
                         f"{RHO0_SOURCES}")
    n = dataset.obs.shape[0]
    init_key, data_key = jax.random.split(key)
    starts = dataset.start.astype(jnp.float32)
    init_idx = jax.random.choice(init_key, n, (num,), p=starts / starts.sum())
    data_idx = jax.random.randint(data_key, (num,), 0, n)
    if source == "init":
        idx = init_idx
    elif source == "data":
        idx = data_idx
    else:
        idx = jnp.concatenate([init_idx[: num // 2], data_idx[: num - num // 2]])
    return dataset.obs[idx]
