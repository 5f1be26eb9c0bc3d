"""The one impure loop: compiled chunks of updates, progress, metrics on disk, NaN guard."""

import time
from collections.abc import Callable

import jax
import numpy as np
from jax.experimental import multihost_utils

from fbjax.agent import Agent
from fbjax.train.checkpoint import Checkpointer
from fbjax.train.metrics import MetricsWriter
from fbjax.train.sharding import single_device_steps

ProgressFn = Callable[[int, dict[str, float]], None]
StepsFn = Callable  # (state, dataset, key) -> (state, mean metrics)


def print_progress(step: int, metrics: dict[str, float], prefix: str = "") -> None:
    """Default progress_fn: one line with speed, ETA and the main losses (after `prefix`)."""
    shown = ("train/fb_loss", "train/ortho_loss", "train/actor_loss", "train/q_mean",
             "train/critic_loss")
    losses = "  ".join(f"{k.split('/')[1]}={metrics[k]:.4g}" for k in shown if k in metrics)
    print(f"{prefix}step {step:>8d}  {metrics['time/steps_per_sec']:8.1f} steps/s  "
          f"ETA {metrics['time/eta_sec']:6.0f}s  {losses}", flush=True)


def fit(
    agent: Agent,
    state,
    dataset,
    *,
    num_steps: int,
    key: jax.Array,
    steps_per_call: int = 500,
    progress_fn: ProgressFn | None = print_progress,
    checkpointer: Checkpointer | None = None,
    save_every: int | None = None,
    make_steps: Callable[[int], StepsFn] | None = None,
    writer: MetricsWriter | None = None,
    max_seconds: float = 0.0,
):
    """Runs `agent`'s updates until `state.step == num_steps`, `steps_per_call` per compiled call.

    Each call's key is `fold_in(key, state.step)` (per seed for a stack of keys, one per seed),
    so no RNG state needs saving: a run restored from a checkpoint continues exactly as an
    uninterrupted one would, provided chunk boundaries fall on the same steps (save_every must be
    a multiple of steps_per_call).

    make_steps(n) builds the compiled `(state, dataset, key) -> (state, metrics)` for n updates
    (default `single_device_steps`; `fbjax.train.sharding.sharded_steps` for many devices,
    `fbjax.train.seeds.seed_steps` for many seeds).
    Metrics are averaged over the chunk (and over copies of a vmapped agent). Progress and
    metrics are written by process 0 only; every process takes part in checkpointing. A
    non-finite metric stops the run with FloatingPointError before anything is saved.
    max_seconds > 0 stops the run early, after the call during which that much time has passed
    since `fit` began (compiling included); the caller saves that step.
    """
    if save_every is not None and save_every % steps_per_call:
        raise ValueError(f"train: save_every={save_every} must be a multiple of "
                         f"steps_per_call={steps_per_call}")
    if make_steps is None:
        def make_steps(n):
            return single_device_steps(agent, n)
    if jax.process_index() != 0:
        progress_fn = None
    compiled: dict[int, StepsFn] = {}
    start_step, start_time = local_step(state.step), time.perf_counter()
    while (step := local_step(state.step)) < num_steps:
        chunk = min(steps_per_call, num_steps - step)
        if chunk not in compiled:
            compiled[chunk] = make_steps(chunk)
        state, metrics = compiled[chunk](state, dataset, _chunk_key(key, step))
        step = local_step(state.step)
        logged = _checked_metrics(metrics, step, checkpointer)
        rate = (step - start_step) / max(time.perf_counter() - start_time, 1e-9)
        logged.update({"time/steps_per_sec": rate,
                       "time/eta_sec": (num_steps - step) / max(rate, 1e-9)})
        _publish(step, logged, writer, progress_fn)
        if checkpointer is not None and save_every and step % save_every == 0:
            checkpointer.save(step, state, {"step": step})
        if step < num_steps and _out_of_time(start_time, max_seconds):
            if progress_fn is not None:
                print(f"train: stopping at step {step} of {num_steps}: the time limit of "
                      f"{max_seconds:g}s has passed", flush=True)
            break
    return state


def _publish(step: int, logged: dict[str, float], writer: MetricsWriter | None,
             progress_fn: ProgressFn | None) -> None:
    """Hands a chunk's metrics to the metric writer and the progress line, where given."""
    if writer is not None:
        writer.write(step, logged)
    if progress_fn is not None:
        progress_fn(step, logged)


def _checked_metrics(metrics, step: int, checkpointer: Checkpointer | None) -> dict[str, float]:
    """The chunk's logged metrics (`_logged_metrics`); FloatingPointError if any is not finite."""
    logged = _logged_metrics(metrics)
    bad = sorted(k for k, v in logged.items() if not np.isfinite(v))
    if bad:
        last = None if checkpointer is None else checkpointer.latest_step()
        raise FloatingPointError(f"train: non-finite metrics at step {step}: {bad}; "
                                 f"nothing saved after the last checkpoint (step {last})")
    return logged


def _out_of_time(start_time: float, max_seconds: float) -> bool:
    """Whether max_seconds (> 0) have passed since start_time; on many processes, process 0's
    clock decides for all of them, so they stop at the same step."""
    if max_seconds <= 0:
        return False
    out = time.perf_counter() - start_time >= max_seconds
    if jax.process_count() > 1:
        out = bool(multihost_utils.broadcast_one_to_all(np.asarray(out)))
    return out


def _chunk_key(key: jax.Array, step: int) -> jax.Array:
    """The key of the chunk starting at `step`: `fold_in(key, step)`, per seed for a stack of
    keys (one per seed, `fbjax.train.seeds`)."""
    if key.ndim == 2:
        return jax.vmap(jax.random.fold_in, in_axes=(0, None))(key, step)
    return jax.random.fold_in(key, step)


def _logged_metrics(metrics) -> dict[str, float]:
    """`train/NAME` per metric (averaged over copies of a vmapped agent), plus `train/NAME/i` for
    each copy i when there are several (e.g. one TD3 oracle per task)."""
    logged = {}
    for name, value in metrics.items():
        held = value if value.is_fully_addressable else value.addressable_data(0)
        values = np.asarray(held, np.float64).reshape(-1)
        logged[f"train/{name}"] = float(values.mean())
        if values.size > 1:
            logged.update({f"train/{name}/{i}": float(v) for i, v in enumerate(values)})
    return logged


def local_step(x: jax.Array) -> int:
    """The value of a replicated step counter (or of the first copy of a vmapped one), readable
    on every process."""
    return int(np.asarray(x.addressable_data(0)).reshape(-1)[0])
