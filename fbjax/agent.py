"""The one agent protocol every learner follows (FB, TD3, RND, DualDICE), and what builds on it.

An agent is a static object (networks, optimisers, config) with

    batch_size: int
    init(key) -> state                       a pytree of arrays (a flax struct)
    update(state, batch, key) -> (state, metrics)

All of its state lives in `state`; `update` is pure. Several updates are one `lax.scan` of
`update` on freshly sampled batches (`scan_updates`), and their metrics are reduced one way: the
mean over the scanned steps. `vmapped(agent, n)` turns an agent into n independent copies (tasks,
seeds) trained in one program.
"""

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import jax
import jax.numpy as jnp

from fbjax.types import Metrics, PRNGKey


class Agent(Protocol):
    batch_size: int

    def init(self, key: PRNGKey) -> Any: ...

    def update(self, state: Any, batch: Any, key: PRNGKey) -> tuple[Any, Metrics]: ...


Sampler = Callable[[PRNGKey], Any]


def sample_batch(dataset, key: PRNGKey, batch_size: int, rows: jax.Array | int | None = None):
    """`batch_size` rows drawn uniformly with replacement from the first `rows` rows (all by
    default) of a pytree of arrays with a shared leading axis (a `Transition`, a dict)."""
    return uniform_sampler(dataset, batch_size, rows)(key)


@dataclasses.dataclass(frozen=True)
class UniformSampler:
    """key -> a uniform minibatch of `dataset` (see `sample_batch`), in two parts: `indices(key)`
    draws the rows and `take(rows)` gathers them (constrained to `sharding` where one is given),
    so a scan of updates can draw every step's rows in one program before it starts."""

    dataset: Any
    batch_size: int
    rows: jax.Array | int | None = None
    sharding: Any = None

    def indices(self, key: PRNGKey) -> jax.Array:
        rows = jax.tree.leaves(self.dataset)[0].shape[0] if self.rows is None else self.rows
        return jax.random.randint(key, (self.batch_size,), 0, rows)

    def take(self, idx: jax.Array):
        batch = jax.tree.map(lambda x: x[idx], self.dataset)
        if self.sharding is None:
            return batch
        return jax.lax.with_sharding_constraint(batch, self.sharding)

    def __call__(self, key: PRNGKey):
        return self.take(self.indices(key))


def uniform_sampler(dataset, batch_size: int, rows: jax.Array | int | None = None,
                    sharding: Any = None) -> UniformSampler:
    """key -> a uniform minibatch of `dataset` (see `sample_batch`)."""
    return UniformSampler(dataset, batch_size, rows, sharding)


def mean_metrics(metrics: Metrics) -> Metrics:
    """The one reduction of scanned metrics: the mean over the leading (step) axis."""
    return jax.tree.map(lambda x: x.mean(axis=0), metrics)


def scan_updates(update: Callable, state, sample: Sampler, key: PRNGKey, num_steps: int):
    """`num_steps` of `update(state, batch, key)` in one `lax.scan`, each on `sample(batch_key)`.
    The step key is split by purpose (batch, update). Returns the state and the mean metrics.

    Every step's keys are split before the scan, and a `UniformSampler`'s rows for every step
    are drawn there too, as one random draw (the same rows as drawing them step by step): the
    loop body then only gathers its batch, instead of running a random-number program of its
    own for each batch."""
    batch_keys, update_keys = jnp.moveaxis(
        jax.vmap(jax.random.split)(jax.random.split(key, num_steps)), 1, 0)
    if isinstance(sample, UniformSampler):  # rows drawn here, gathered in the loop
        draws, batch_of = jax.vmap(sample.indices)(batch_keys), sample.take
    else:
        draws, batch_of = batch_keys, sample

    def one_step(state, xs):
        drawn, update_key = xs
        return update(state, batch_of(drawn), update_key)

    state, metrics = jax.lax.scan(one_step, state, (draws, update_keys))
    return state, mean_metrics(metrics)


def train_steps(agent: Agent, state, dataset, key: PRNGKey, num_steps: int):
    """`num_steps` updates of `agent`, batches of `agent.batch_size` drawn uniformly from
    `dataset` (any pytree with a shared leading axis)."""
    return scan_updates(agent.update, state, uniform_sampler(dataset, agent.batch_size), key,
                        num_steps)


class Vmapped:
    """`n` independent copies of an agent (one per task or per seed) as one agent.

    The state has a leading axis of size n. `update` takes a batch (a dict or a dataclass such as
    `fbjax.types.Labelled`) shared by every copy except the fields named in `per_copy` (e.g.
    "reward"), which carry the copies on their last axis (rows, n) in the dataset, so sampling
    rows samples them for every copy at once. Each copy gets its own key; metrics come back per
    copy (leading axis n)."""

    def __init__(self, agent: Agent, n: int, per_copy: tuple[str, ...] = ()):
        if n < 1:
            raise ValueError(f"Vmapped: need at least one copy, got n={n}")
        self.agent, self.n, self.per_copy = agent, n, per_copy
        self.batch_size = agent.batch_size

    def init(self, key: PRNGKey):
        return jax.vmap(self.agent.init)(jax.random.split(key, self.n))

    def update(self, state, batch, key: PRNGKey):
        own = {k: jnp.moveaxis(_field(batch, k), -1, 0) for k in self.per_copy}

        def one(s, own_fields, k):  # the shared fields are closed over, not mapped
            return self.agent.update(s, _with_fields(batch, own_fields), k)

        return jax.vmap(one)(state, own, jax.random.split(key, self.n))


def _field(batch, name: str):
    return batch[name] if isinstance(batch, Mapping) else getattr(batch, name)


def _with_fields(batch, fields: dict):
    """`batch` with `fields` replaced: a dict copy, or `dataclasses.replace` of a dataclass."""
    return {**batch, **fields} if isinstance(batch, Mapping) else dataclasses.replace(batch,
                                                                                     **fields)
