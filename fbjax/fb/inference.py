"""Zero-shot task inference and acting (SPEC section 4), batched over P prompts."""

import chex
import jax
import jax.numpy as jnp

from fbjax.fb.losses import pessimistic_mean
from fbjax.fb.networks import FBNetworks
from fbjax.nets import project_z
from fbjax.types import Params, PRNGKey


def reward_inference(
    networks: FBNetworks,
    backward_params: Params,
    next_obs: jax.Array,
    rewards: jax.Array,
    weights: jax.Array | None = None,
) -> jax.Array:
    """z_r = proj(mean_i w_i r_i B(s'_i)) for P prompts at once.

    next_obs: (n, obs_dim) shared by all prompts, or (P, n, obs_dim) one set per prompt.
    rewards: (P, n) (or (n,) for a single prompt, which returns (d,)).
    weights: optional per-sample weights, same shape as rewards.
    """
    single = rewards.ndim == 1
    rewards = jnp.atleast_2d(rewards)
    weights = jnp.ones_like(rewards) if weights is None else jnp.atleast_2d(weights)
    if weights.shape != rewards.shape:
        raise ValueError(f"reward_inference: weights {weights.shape} != rewards {rewards.shape}")
    n = rewards.shape[-1]
    if next_obs.ndim == 2:
        if next_obs.shape[0] != n:
            raise ValueError(f"reward_inference: {next_obs.shape[0]} states for {n} rewards")
        z = project_z((weights * rewards) @ networks.backward(backward_params, next_obs) / n)
    elif next_obs.ndim == 3:
        if next_obs.shape[:2] != rewards.shape:
            raise ValueError(f"reward_inference: states {next_obs.shape[:2]} vs rewards "
                             f"{rewards.shape}: expected (P, n, obs_dim) with (P, n) rewards")
        b = jax.vmap(lambda o: networks.backward(backward_params, o))(next_obs)
        z = project_z(jnp.einsum("pn,pnd->pd", weights * rewards, b) / n)
    else:
        raise ValueError(f"reward_inference: next_obs must be (n, obs) or (P, n, obs), "
                         f"got {next_obs.shape}")
    return z[0] if single else z


def goal_inference(networks: FBNetworks, backward_params: Params, goals: jax.Array) -> jax.Array:
    """z_g = proj(B(g)); goals (P, obs_dim) -> (P, d), or (obs_dim,) -> (d,)."""
    chex.assert_shape(goals, (..., networks.obs_dim))
    return networks.backward(backward_params, goals)


def act(
    networks: FBNetworks,
    params: Params,
    obs: jax.Array,
    z: jax.Array,
    mean: bool = True,
    key: PRNGKey | None = None,
    pessimism: float | None = None,
) -> jax.Array:
    """The policy pi_z. Continuous: the actor mean, or a noisy sample (mean=False, key needed).
    Discrete: the greedy action of the pessimistic Q = F(s, a, z) . z (`mean` is ignored)."""
    chex.assert_equal_shape_prefix([obs, z], obs.ndim - 1)
    if networks.discrete:
        coef = networks.config.actor_pessimism if pessimism is None else pessimism
        f = networks.forward(params["forward"], obs, None, z)
        q = jnp.einsum("k...ad,...d->k...a", f, z)
        return jnp.argmax(pessimistic_mean(q, coef), axis=-1)
    if mean:
        return networks.actor_mean(params["actor"], obs, z)
    if key is None:
        raise ValueError("act: mean=False samples noise and needs a key")
    return networks.sample_action(params["actor"], obs, z, key)
