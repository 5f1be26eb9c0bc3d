"""Rewards of many tasks for many stored samples, in one compiled call.

`relabel(domain, next_physics, action)` returns an (N, num_tasks) array: row i holds every task's
reward for the transition that reached next_physics[i] with action[i], exactly what the domain's
step would have reported. Samples are processed `chunk_size` at a time under `lax.map`, so device
memory stays bounded however large N is.
"""

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from fbjax.envs.base import Domain


@functools.cache
def _compiled(domain: Domain, task_ids: tuple[int, ...], chunk_size: int):
    index = jnp.asarray(task_ids)

    def one(sample):
        physics, action = sample
        return domain.rewards(physics, action)[index]

    def run(next_physics, action):
        return jax.lax.map(one, (next_physics, action), batch_size=chunk_size)

    return jax.jit(run)


def task_indices(domain: Domain, tasks: Sequence[str] | None) -> tuple[int, ...]:
    names = domain.task_names
    if tasks is None:
        return tuple(range(len(names)))
    for task in tasks:
        domain.task_fn(task)  # raises with the list of valid tasks
    return tuple(names.index(t) for t in tasks)


def relabel(domain: Domain, next_physics, action, tasks: Sequence[str] | None = None,
            chunk_size: int = 4096) -> jnp.ndarray:
    """Rewards, shape (N, len(tasks)), of `tasks` (default: all, in `domain.task_names` order)."""
    next_physics = jnp.asarray(next_physics, jnp.float32)
    action = jnp.asarray(action, jnp.float32)
    if next_physics.ndim != 2 or next_physics.shape[1] != domain.physics_dim:
        raise ValueError(f"relabel: next_physics has shape {next_physics.shape}, expected "
                         f"(N, {domain.physics_dim}) for domain {domain.name!r}")
    if action.shape != (next_physics.shape[0], domain.action_dim):
        raise ValueError(f"relabel: action has shape {action.shape}, expected "
                         f"({next_physics.shape[0]}, {domain.action_dim})")
    if chunk_size < 1:
        raise ValueError(f"relabel: chunk_size must be >= 1, got {chunk_size}")
    fn = _compiled(domain, task_indices(domain, tasks), int(chunk_size))
    return fn(next_physics, action)

