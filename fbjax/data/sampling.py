"""Uniform minibatch sampling from a dataset held on device."""

import jax

from fbjax.types import PRNGKey, Transition


def sample_batch(dataset: Transition, key: PRNGKey, batch_size: int) -> Transition:
    """`batch_size` transitions drawn uniformly with replacement."""
    idx = jax.random.randint(key, (batch_size,), 0, dataset.obs.shape[0])
    return jax.tree.map(lambda x: x[idx], dataset)
