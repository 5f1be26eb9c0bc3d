"""Several independent training seeds of one agent in one compiled program (`parallel="seeds"`).

Seed s is the run `train_run` would make for s alone: the same initial state, the same key stream
(`fold_in(train_key_s, step)` per chunk of updates) and its own minibatches. Each seed still owns
its run directory (config.json, checkpoints, metrics), so `load_fb`, resuming and evaluation see
ordinary runs; only the compiled step is shared: `vmap` over the seeds of the scanned updates,
with the dataset held once. On an accelerator this turns idle capacity into seeds.

The seed axis is split over the devices when there are several and they divide the number of
seeds (state and keys sharded on the seed axis, the dataset replicated); otherwise every seed runs
on the default device. One process only: multi-process runs train data-parallel
(`parallel="sharded"`), one seed at a time.
"""

import contextlib
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from fbjax.agent import Agent, scan_updates, uniform_sampler
from fbjax.train.checkpoint import Checkpointer
from fbjax.train.lock import folder_lock
from fbjax.train.loop import ProgressFn, local_step, print_progress
from fbjax.train.metrics import MetricsWriter
from fbjax.train.run import (
    FBRun,
    TrainConfig,
    check_batch,
    fit_and_save,
    is_sharded,
    open_run,
    train_run,
)
from fbjax.train.sharding import DATA_AXIS, make_mesh


def seed_steps(agent: Agent, num_steps: int, mesh=None):
    """A jitted `(states, dataset, keys) -> (states, metrics)`: `num_steps` updates of every
    seed, states and keys with a leading seed axis, each seed sampling its own batches from the
    shared dataset. With `mesh`, the seed axis is split over its devices."""

    def one_seed(state, dataset, key):
        return scan_updates(agent.update, state, uniform_sampler(dataset, agent.batch_size), key,
                            num_steps)

    steps = jax.vmap(one_seed, in_axes=(0, None, 0))
    if mesh is None:
        return jax.jit(steps, donate_argnums=0)
    seeds, rep = NamedSharding(mesh, P(DATA_AXIS)), NamedSharding(mesh, P())
    return jax.jit(steps, in_shardings=(seeds, rep, seeds), out_shardings=(seeds, seeds),
                   donate_argnums=0)


def seed_mesh(num_seeds: int):
    """The mesh the seed axis is split over, or None to keep every seed on one device."""
    devices = jax.device_count()
    return make_mesh() if devices > 1 and num_seeds % devices == 0 else None


def stack(trees: list) -> Any:
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def unstack(tree, n: int) -> list:
    return [jax.tree.map(lambda x, i=i: x[i], tree) for i in range(n)]


class _PerSeedCheckpoints:
    """The `Checkpointer` interface `fit` uses, saving seed i's slice in seed i's directory."""

    def __init__(self, checkpointers: list[Checkpointer]):
        self.checkpointers = checkpointers

    def latest_step(self) -> int | None:
        steps = [c.latest_step() for c in self.checkpointers]
        return None if None in steps else min(steps)

    def save(self, step: int, states, meta: dict | None = None) -> None:
        for c, state in zip(self.checkpointers, unstack(states, len(self.checkpointers)),
                            strict=True):
            c.save(step, state, meta)


class _PerSeedWriters:
    """The `MetricsWriter` interface `fit` uses: seed i's metrics go to seed i's run. `fit` logs
    `train/NAME/k` for every copy k of the vmapped program (seed-major when the agent has copies
    of its own, e.g. TD3 oracles over tasks) and `time/*` for all."""

    def __init__(self, writers: list[MetricsWriter]):
        self.writers = writers

    def write(self, step: int, logged: dict[str, float]) -> None:
        n = len(self.writers)
        names = [k for k in logged if k.startswith("train/") and k.count("/") == 1]
        shared = {k: v for k, v in logged.items() if not k.startswith("train/")}
        for i, writer in enumerate(self.writers):
            own = dict(shared)
            for name in names:
                copies = [logged[f"{name}/{k}"] for k in range(_count(logged, name))] \
                    or [logged[name]]
                per_seed = len(copies) // n
                mine = copies[i * per_seed:(i + 1) * per_seed]
                own[name] = float(np.mean(mine))
                if per_seed > 1:
                    own.update({f"{name}/{k}": v for k, v in enumerate(mine)})
            writer.write(step, own)

    def close(self) -> None:
        for writer in self.writers:
            writer.close()


def _count(logged: dict, name: str) -> int:
    k = 0
    while f"{name}/{k}" in logged:
        k += 1
    return k


def train_seeds(agent: Agent, dataset, run_dirs: dict[int, str],
                description: dict[str, Any] | FBRun, config: TrainConfig,
                progress_fn: ProgressFn | None = print_progress,
                label: str = "") -> dict[int, Any]:
    """Trains (or resumes) one run of `agent` per seed, `run_dirs` {seed: directory}, all in one
    compiled program; returns {seed: final state}. Each directory ends as `train_run` would leave
    it for that seed alone (same description, checkpoints and metrics). Every seed must be at the
    same step when the runs resume."""
    if jax.process_count() > 1:
        raise ValueError(f"{label}train.parallel='seeds' runs in one process; with "
                         f"{jax.process_count()} processes use parallel='sharded' (one seed at "
                         "a time, data-parallel)")
    seeds = list(run_dirs)
    check_batch(agent, dataset, run_dirs[seeds[0]], label)
    with contextlib.ExitStack() as locks:
        for seed in seeds:
            locks.enter_context(folder_lock(run_dirs[seed], "give this run another directory"))
        return _train_locked(agent, dataset, run_dirs, description, config, progress_fn, label)


def _train_locked(agent, dataset, run_dirs, description, config, progress_fn, label):
    seeds = list(run_dirs)
    opened = [open_run(agent, run_dirs[seed], description, config, seed, label)
              for seed in seeds]  # each seed as train_run would open it alone
    checkpointers = [c for c, _, _ in opened]
    states, train_keys = [s for _, s, _ in opened], [k for _, _, k in opened]
    at = {seed: local_step(s.step) for seed, s in zip(seeds, states, strict=True)}
    if len(set(at.values())) > 1:
        raise ValueError(f"{label}seeds resume from different steps {at}; bring them to the same "
                         "step first (train the lagging seeds alone with "
                         "train.parallel='single' and num_steps set to the furthest step)")
    mesh = seed_mesh(len(seeds))
    states, keys = stack(states), jnp.stack(train_keys)
    if mesh is None:
        states, dataset = jax.device_put(states), jax.device_put(dataset)
    else:
        split, rep = NamedSharding(mesh, P(DATA_AXIS)), NamedSharding(mesh, P())
        states, keys = jax.device_put(states, split), jax.device_put(keys, split)
        dataset = jax.device_put(dataset, rep)
    if progress_fn is not None:
        layout = f"split over {mesh.size} devices" if mesh is not None else "on one device"
        print(f"{label}{len(seeds)} seeds {seeds} in one program ({layout}), from step "
              f"{at[seeds[0]]}", flush=True)
    checkpoints = _PerSeedCheckpoints(checkpointers)
    writers = _PerSeedWriters([MetricsWriter(os.path.join(c.directory, "metrics"))
                               for c in checkpointers])
    states = fit_and_save(agent, states, dataset, config, keys, checkpoints, writers,
                          lambda n: seed_steps(agent, n, mesh), progress_fn,
                          closing=checkpointers)
    return dict(zip(seeds, unstack(states, len(seeds)), strict=True))


def train_runs(agent: Agent, dataset, run_dirs: dict[int, str],
               description: dict[str, Any] | FBRun, config: TrainConfig,
               progress_fn: ProgressFn | None = print_progress,
               label: str = "") -> dict[int, Any]:
    """The training driver: one run of `agent` per seed, `run_dirs` {seed: directory}, laid out
    as `config.parallel` says. "seeds" with several seeds trains them in one compiled program
    (`train_seeds`); otherwise the seeds train one after another, each as `train_run` (data-
    parallel over every device when "sharded" or on several processes). "cores", one worker
    process per CPU core, starts processes that each load the data and call this for their seed
    (`fbjax.pipeline.mjx.train_all`); here it trains one after another. Returns {seed: final
    state}; every directory ends as `train_run` would leave it for its seed alone."""
    if config.parallel == "seeds" and len(run_dirs) > 1:
        return train_seeds(agent, dataset, run_dirs, description, config, progress_fn, label)
    if progress_fn is not None:
        layout = (f"data-parallel over {jax.device_count()} devices of {jax.process_count()} "
                  "process(es)" if is_sharded(config) else "on one device")
        print(f"{label}seed(s) {list(run_dirs)} one after another, each {layout}", flush=True)
    return {seed: train_run(agent, dataset, run_dir, description, config, seed, progress_fn,
                            label) for seed, run_dir in run_dirs.items()}
