"""Uniform minibatch sampling from data held on device, and a `lax.scan` of sampled updates."""

from collections.abc import Callable

import jax

from fbjax.types import PRNGKey


def sample_batch(dataset, key: PRNGKey, batch_size: int, rows: jax.Array | int | None = None):
    """`batch_size` rows drawn uniformly with replacement from the first `rows` rows (all by
    default) of a pytree of arrays with a shared leading axis (a `Transition`, a dict)."""
    if rows is None:
        rows = jax.tree.leaves(dataset)[0].shape[0]
    idx = jax.random.randint(key, (batch_size,), 0, rows)
    return jax.tree.map(lambda x: x[idx], dataset)


def scan_updates(update: Callable, state, dataset, key: PRNGKey, num_steps: int,
                 batch_size: int, rows: jax.Array | int | None = None):
    """`num_steps` of `update(state, batch, key) -> (state, metrics)` in one `lax.scan`, each on a
    fresh batch from `dataset`. Returns the state and the metrics of every step (leading axis)."""

    def one_step(state, step_key):
        batch_key, update_key = jax.random.split(step_key)
        return update(state, sample_batch(dataset, batch_key, batch_size, rows), update_key)

    return jax.lax.scan(one_step, state, jax.random.split(key, num_steps))
