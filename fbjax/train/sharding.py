"""Data-parallel training over every device of every process, with JAX's own sharding.

The dataset is split by rows over a 1-D mesh axis ("data"); parameters and optimiser states are
replicated. Each step draws the same global row indices a single-device run would draw, gathers
those rows from the sharded dataset and constrains the batch to the data axis, and the unchanged
`agent.update` runs on it under `jit` with explicit shardings: XLA partitions the computation, so
the loss and its gradients are those of the global batch (the N x N FB matrices included) and one
sharded step equals the single-device step. The same code runs on 1 device or many, on one
process or several (after `jax.distributed.initialize`).
"""

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from fbjax.agent import Agent, scan_updates, uniform_sampler

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


def shard_dataset(local, mesh: Mesh):
    """A global dataset sharded by rows from this process's rows (every process passes the same
    number of rows, a multiple of its local device count)."""
    rows = jax.tree.leaves(local)[0].shape[0]
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


def single_device_steps(agent: Agent, num_steps: int):
    """A jitted `(state, dataset, key) -> (state, mean metrics)` of `num_steps` updates."""

    def steps(state, dataset, key):
        return scan_updates(agent.update, state, uniform_sampler(dataset, agent.batch_size), key,
                            num_steps)

    return jax.jit(steps, donate_argnums=0)


def sharded_steps(agent: Agent, mesh: Mesh, num_steps: int):
    """As `single_device_steps`, with the state replicated and the dataset sharded by rows; the
    global batch (`agent.batch_size` rows, a multiple of the device count) is split over devices."""
    if agent.batch_size % mesh.size:
        raise ValueError(f"sharded training: batch_size {agent.batch_size} is not a multiple of "
                         f"the {mesh.size} devices")
    rep, data = replicated(mesh), data_sharding(mesh)

    def steps(state, dataset, key):
        sample = uniform_sampler(dataset, agent.batch_size, sharding=data)
        return scan_updates(agent.update, state, sample, key, num_steps)

    return jax.jit(steps, in_shardings=(rep, data, rep), out_shardings=(rep, rep),
                   donate_argnums=0)
