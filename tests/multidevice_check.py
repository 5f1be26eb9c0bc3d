"""Run with 4 fake CPU devices (tests/test_sharding.py sets XLA_FLAGS before jax starts):
the sharded FB step against the single-device step, and where the shards and samples lie."""

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.data import sharding
from tests.helpers import discrete_agent, random_batch


def main():
    assert jax.device_count() == 4, jax.devices()
    mesh = sharding.make_mesh()
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

    # Each device samples only its own rows: obs[:, 0] holds the row number.
    numbered = random_batch(40, True, seed=6).replace(
        obs=jnp.tile(jnp.arange(40.0)[:, None], (1, 3)))
    dataset = sharding.shard_dataset(numbered, mesh)
    sampled = sharding.sample_sharded_batch(dataset, jax.random.PRNGKey(7), 8, mesh)
    for shard in sampled.obs.addressable_shards:
        device_rank = shard.index[0].start // 8
        rows_seen = np.asarray(shard.data)[:, 0]
        assert np.all((rows_seen >= 10 * device_rank) & (rows_seen < 10 * (device_rank + 1)))

    # A scan of sharded steps runs and keeps the state replicated.
    steps = sharding.sharded_train_steps(agent, mesh, per_device_batch=4, num_steps=3)
    new_state, metrics = steps(sharding.replicate(state, mesh), dataset, key)
    assert int(sharding.to_host(new_state.step)) == 3
    assert np.isfinite(float(metrics["fb_loss"]))
    print(json.dumps({"max_param_diff": max(worst.values())}))


if __name__ == "__main__":
    sys.exit(main())
