"""Run with 4 fake CPU devices (tests/test_sharding.py sets XLA_FLAGS before jax starts):
the sharded FB step and scan against the single-device ones, where the shards lie, and many
seeds split over the devices against the same seeds on one."""

import dataclasses
import json
import sys

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from fbjax.fb import FBAgent
from fbjax.train import seeds, sharding
from tests.helpers import NUM_ACTIONS, OBS_DIM, TINY, continuous_agent, discrete_agent, random_batch


def _one_sharded_update(mesh) -> float:
    """One update with the batch split over the 4 devices equals it on one device."""
    agent = discrete_agent()
    state = agent.init(jax.random.PRNGKey(0))
    batch = random_batch(16, True, seed=3)
    key = jax.random.PRNGKey(4)
    single_state, single_metrics = jax.jit(agent.update)(state, batch, key)
    rep, data = sharding.replicated(mesh), sharding.data_sharding(mesh)
    sharded_update = jax.jit(agent.update, in_shardings=(rep, data, rep),
                             out_shardings=(rep, rep))
    sharded_batch = sharding.shard_dataset(batch, mesh)
    assert len(sharded_batch.obs.sharding.device_set) == 4
    multi_state, multi_metrics = sharded_update(sharding.replicate(state, mesh), sharded_batch,
                                                key)
    worst = {}
    for name in ("fb_loss", "ortho_loss", "q_mean", "grad_norm_forward", "grad_norm_backward"):
        np.testing.assert_allclose(multi_metrics[name], single_metrics[name], rtol=1e-5,
                                   atol=1e-6)
    multi_host = dict(jax.tree_util.tree_leaves_with_path(sharding.to_host(multi_state)))
    for path, a in jax.tree_util.tree_leaves_with_path(single_state):
        worst[jax.tree_util.keystr(path)] = float(np.max(np.abs(np.asarray(a) - multi_host[path])))
    # One Adam step moves each parameter by at most lr; the two partitions of the same sums differ
    # in float32 rounding only, far below that.
    assert max(worst.values()) <= 1e-6, sorted(worst.items(), key=lambda kv: -kv[1])[:3]
    # The shards cover the dataset's rows disjointly.
    dataset = sharding.shard_dataset(random_batch(40, True, seed=5), mesh)
    rows = sorted((s.index[0].start or 0, s.index[0].stop) for s in dataset.obs.addressable_shards)
    assert rows == [(0, 10), (10, 20), (20, 30), (30, 40)], rows
    return max(worst.values())


def _sharded_scan(mesh) -> float:
    """A scan of sharded steps equals the single-device scan: the same rows are drawn (global
    indices from the same keys) and each update is the same global-batch update."""
    agent = FBAgent(dataclasses.replace(TINY, batch_size=8), OBS_DIM, num_actions=NUM_ACTIONS)
    state = agent.init(jax.random.PRNGKey(1))
    data = random_batch(40, True, seed=6)
    key = jax.random.PRNGKey(8)
    single_scan, single_scan_metrics = sharding.single_device_steps(agent, 3)(
        jax.tree.map(jnp.copy, state), data, key)
    multi_scan, multi_scan_metrics = sharding.sharded_steps(agent, mesh, 3)(
        sharding.replicate(state, mesh), sharding.shard_dataset(data, mesh), key)
    assert int(sharding.to_host(multi_scan.step)) == 3
    scan_host = dict(jax.tree_util.tree_leaves_with_path(sharding.to_host(multi_scan)))
    scan_worst = max(float(np.max(np.abs(np.asarray(a) - scan_host[path])))
                     for path, a in jax.tree_util.tree_leaves_with_path(single_scan))
    assert scan_worst <= 1e-6, scan_worst
    np.testing.assert_allclose(multi_scan_metrics["fb_loss"], single_scan_metrics["fb_loss"],
                               rtol=1e-5, atol=1e-6)
    return scan_worst


def _seeds_split() -> float:
    """Many seeds in one program with the seed axis split over the 4 devices (one seed each)
    equals the same program on one device."""
    agent = continuous_agent()
    states = seeds.stack([agent.init(jax.random.PRNGKey(s)) for s in range(4)])
    keys = jax.random.split(jax.random.PRNGKey(9), 4)
    data = random_batch(64, False, seed=7)
    alone, _ = seeds.seed_steps(agent, 3)(jax.tree.map(jnp.copy, states), data, keys)
    mesh = seeds.seed_mesh(4)
    split, rep = NamedSharding(mesh, P(sharding.DATA_AXIS)), NamedSharding(mesh, P())
    spread, _ = seeds.seed_steps(agent, 3, mesh)(jax.device_put(states, split),
                                                 jax.device_put(data, rep),
                                                 jax.device_put(keys, split))
    assert len(spread.step.sharding.device_set) == 4
    seeds_worst = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
                      for a, b in zip(jax.tree.leaves(alone), jax.tree.leaves(spread), strict=True))
    assert seeds_worst <= 1e-6, seeds_worst
    return seeds_worst


def main():
    assert jax.device_count() == 4, jax.devices()
    mesh = sharding.make_mesh()
    print(json.dumps({"max_param_diff": _one_sharded_update(mesh),
                      "max_scan_param_diff": _sharded_scan(mesh),
                      "max_seed_split_diff": _seeds_split()}))


if __name__ == "__main__":
    sys.exit(main())
