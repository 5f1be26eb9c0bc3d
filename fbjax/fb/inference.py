"""Zero-shot task inference and acting (SPEC section 4), batched over P prompts."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

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
    _check_width("reward_inference", "next_obs", next_obs, networks.obs_dim)
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
    """z_g = proj(B(g)) for goals (P, width) -> (P, d), or (width,) -> (d,).

    A goal is a point of B's goal space (width goal_dim, e.g. the maze's (x, y)) or a whole
    observation (width obs_dim), which is projected to the goal space first."""
    width = goals.shape[-1]
    if width == networks.obs_dim:
        return networks.backward(backward_params, goals)
    if width == networks.goal_dim:
        return networks.backward_goal(backward_params, goals)
    raise ValueError(f"goal_inference: goals of width {width}; expected points of the goal "
                     f"space ({networks.goal_dim}: observation coordinates "
                     f"{list(networks.config.goal_indices)}) or observations ({networks.obs_dim})")


def _check_width(where: str, name: str, value, width: int) -> None:
    """A one-line error naming the argument whose last axis is not the model's width (instead of
    flax's parameter-shape error deep inside the network)."""
    shape = tuple(getattr(value, "shape", ()))
    if not shape or shape[-1] != width:
        raise ValueError(f"{where}: {name} has shape {shape}; the model expects a last axis of "
                         f"{width}")


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
    _check_width("act", "obs", obs, networks.obs_dim)
    _check_width("act", "z", z, networks.config.z_dim)
    if obs.shape[:-1] != z.shape[:-1]:
        raise ValueError(f"act: obs {tuple(obs.shape)} and z {tuple(z.shape)} need the same "
                         "leading shape, one z per observation (for one z and many "
                         "observations: jnp.broadcast_to(z, obs.shape[:-1] + z.shape[-1:]))")
    if networks.discrete:
        coef = networks.config.actor_pessimism if pessimism is None else pessimism
        f = networks.forward(params.forward, obs, None, z)
        q = jnp.einsum("k...ad,...d->k...a", f, z)
        return jnp.argmax(pessimistic_mean(q, coef), axis=-1)
    if mean:
        return networks.actor_mean(params.actor, obs, z)
    if key is None:
        raise ValueError("act: mean=False samples noise and needs a key")
    return networks.sample_action(params.actor, obs, z, key)


def reward_inference_all(networks: FBNetworks, backward_params: Params, next_obs, rewards,
                         chunk: int = 65_536) -> jax.Array:
    """z_r = proj(mean_i r_i B(s'_i)) over every row of a dataset, for P rewards at once.

    next_obs: (N, obs_dim) and rewards: (N, P), numpy or JAX, any N: the sum of r B is
    accumulated over chunks of `chunk` rows (one compiled chunk size, the last one zero-padded),
    so a 2M-row dataset needs no N x d buffer. The prompt then sees every rewarded transition of
    a sparse task, where a sample of 10k may see none. Returns (P, d)."""
    next_obs, rewards = np.asarray(next_obs, np.float32), np.asarray(rewards, np.float32)
    _check_width("reward_inference_all", "next_obs", next_obs, networks.obs_dim)
    if rewards.ndim != 2 or next_obs.ndim != 2 or len(rewards) != len(next_obs):
        raise ValueError(f"reward_inference_all: expected next_obs (N, obs_dim) and rewards "
                         f"(N, P), got {next_obs.shape} and {rewards.shape}")
    n = len(next_obs)
    chunk = max(1, min(chunk, n))
    total = jnp.zeros((rewards.shape[1], networks.config.z_dim), jnp.float32)
    for start in range(0, n, chunk):
        obs, r = next_obs[start:start + chunk], rewards[start:start + chunk]
        pad = chunk - len(obs)
        if pad:  # zero rewards add nothing
            obs = np.concatenate([obs, np.repeat(obs[-1:], pad, axis=0)])
            r = np.concatenate([r, np.zeros((pad, r.shape[1]), np.float32)])
        total = _add_chunk(networks, backward_params, total, obs, r)
    return project_z(total / n)


@functools.partial(jax.jit, static_argnums=0)
def _add_chunk(networks: FBNetworks, backward_params, total, obs, rewards):
    """total + r^T B(s') of one chunk; compiled once per (networks, chunk shape), not per call."""
    return total + rewards.T @ networks.backward(backward_params, obs)
