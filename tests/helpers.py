"""Tiny agents and random batches shared by the tests."""

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.fb import FBAgent, FBConfig
from fbjax.types import Transition

TINY = FBConfig(z_dim=4, backward_hidden=8, backward_layers=2, forward_hidden=8,
                forward_layers=1, actor_hidden=8, actor_layers=1, batch_size=6, discount=0.9,
                tau=0.1, lr_forward=1e-2, lr_backward=1e-2, lr_actor=1e-2)
OBS_DIM, ACTION_DIM, NUM_ACTIONS = 3, 2, 3


def continuous_agent(**kwargs) -> FBAgent:
    return FBAgent(TINY, OBS_DIM, ACTION_DIM, **kwargs)


def discrete_agent(**kwargs) -> FBAgent:
    return FBAgent(TINY, OBS_DIM, num_actions=NUM_ACTIONS, **kwargs)


def random_batch(n: int, discrete: bool, seed: int = 0) -> Transition:
    rng = np.random.default_rng(seed)
    if discrete:
        action = jnp.asarray(rng.integers(0, NUM_ACTIONS, n), jnp.int32)
    else:
        action = jnp.asarray(rng.uniform(-1, 1, (n, ACTION_DIM)), jnp.float32)
    return Transition(
        obs=jnp.asarray(rng.normal(size=(n, OBS_DIM)), jnp.float32),
        action=action,
        next_obs=jnp.asarray(rng.normal(size=(n, OBS_DIM)), jnp.float32),
        terminal=jnp.asarray(rng.random(n) < 0.25, jnp.float32),
        start=jnp.asarray(rng.random(n) < 0.25, jnp.float32),
    )


def random_z(n: int, seed: int = 0) -> jax.Array:
    z = np.random.default_rng(seed).normal(size=(n, TINY.z_dim))
    return jnp.asarray(np.sqrt(TINY.z_dim) * z / np.linalg.norm(z, axis=1, keepdims=True),
                       jnp.float32)
