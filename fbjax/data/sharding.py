"""Data-parallel training over every device of every process, with JAX's own sharding.

The dataset is split by rows over a 1-D mesh axis ("data"): each device holds and samples only its
own rows. Parameters and optimiser states are replicated. A global batch (per-device batch x
number of devices) is sampled shard by shard under `shard_map`, and the unchanged `FBAgent.update`
runs on it under `jit` with explicit shardings: XLA partitions the computation, so the loss and its
gradients are those of the global batch (the N x N FB matrices included) and one sharded step
equals the single-device step on the same batch. The same code runs on 1 device or many, on one
process or several (after `jax.distributed.initialize`).
"""

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from fbjax.fb.learner import FBAgent
from fbjax.types import PRNGKey, Transition

DATA_AXIS = "data"


def make_mesh() -> Mesh:
    """A 1-D mesh over all devices of all processes. Auto axes: jit's partitioner places the
    intermediates (explicit axes would ask every gather in the update for an output sharding)."""
    return jax.make_mesh((jax.device_count(),), (DATA_AXIS,),
                         axis_types=(jax.sharding.AxisType.Auto,))


def data_sharding(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P(DATA_AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def process_rows(num_rows: int) -> slice:
    """This process's contiguous block of a dataset of `num_rows` rows: equal blocks, each a
    multiple of the local device count (the few rows left over are not used)."""
    per_process = num_rows // jax.process_count()
    per_process -= per_process % jax.local_device_count()
    if per_process == 0:
        raise ValueError(f"process_rows: {num_rows} rows cannot give each of "
                         f"{jax.device_count()} devices a row")
    start = jax.process_index() * per_process
    return slice(start, start + per_process)


def shard_dataset(local: Transition, mesh: Mesh) -> Transition:
    """A global dataset sharded by rows from this process's rows (every process passes the same
    number of rows, a multiple of its local device count)."""
    rows = local.obs.shape[0]
    if rows % jax.local_device_count():
        raise ValueError(f"shard_dataset: {rows} local rows are not a multiple of the "
                         f"{jax.local_device_count()} local devices; slice with process_rows")
    sharding = data_sharding(mesh)
    return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)),
                        local)


def replicate(tree, mesh: Mesh):
    """Places a pytree (the same values on every process) on every device."""
    sharding = replicated(mesh)
    return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)),
                        tree)


def to_host(tree):
    """Numpy copies of replicated global arrays (works on every process)."""
    return jax.tree.map(lambda x: np.asarray(x.addressable_data(0)), tree)


def sample_sharded_batch(dataset: Transition, key: PRNGKey, per_device_batch: int,
                         mesh: Mesh) -> Transition:
    """A global batch: each device draws `per_device_batch` rows uniformly from its own shard."""

    def local_sample(shard, key):
        key = jax.random.fold_in(key, jax.lax.axis_index(DATA_AXIS))
        idx = jax.random.randint(key, (per_device_batch,), 0, shard.obs.shape[0])
        return jax.tree.map(lambda x: x[idx], shard)

    return jax.shard_map(local_sample, mesh=mesh, in_specs=(P(DATA_AXIS), P()),
                         out_specs=P(DATA_AXIS))(dataset, key)


def sharded_train_steps(agent: FBAgent, mesh: Mesh, per_device_batch: int, num_steps: int):
    """A jitted `(state, dataset, key) -> (state, metrics)` running `num_steps` updates on global
    batches of per_device_batch x devices rows; state replicated, dataset sharded by rows."""
    if agent.axis_name is not None:
        raise ValueError("sharded_train_steps: build the agent without axis_name; the global "
                         "batch is partitioned by jit, not averaged by hand")

    def steps(state, dataset, key):
        def one_step(state, step_key):
            batch_key, update_key = jax.random.split(step_key)
            batch = sample_sharded_batch(dataset, batch_key, per_device_batch, mesh)
            batch = jax.lax.with_sharding_constraint(batch, data_sharding(mesh))
            return agent.update(state, batch, update_key)

        state, metrics = jax.lax.scan(one_step, state, jax.random.split(key, num_steps))
        return state, jax.tree.map(lambda x: x.mean(axis=0), metrics)

    rep, data = replicated(mesh), data_sharding(mesh)
    return jax.jit(steps, in_shardings=(rep, data, rep), out_shardings=(rep, rep),
                   donate_argnums=0)
