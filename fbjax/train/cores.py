"""One worker process per CPU core: on a small CPU one XLA process does not keep every core busy
with FB-sized matmuls (2 cores: about 1.4 used), so separate processes, each pinned to its own
core, train more seed-updates per second (benchmarks/fb_update.py --cores). Used by the MJX
pipeline for train.parallel="cores"."""

import os
from collections.abc import Callable, Sequence


def _pin_to_a_core(cores) -> None:
    """Worker initializer: take one free core from the queue and run on it alone. It runs before
    the worker first uses JAX, so every XLA thread the worker starts inherits the one-core mask."""
    os.sched_setaffinity(0, {cores.get()})


def run_on_cores(fn: Callable, calls: Sequence[tuple]) -> list[int]:
    """`fn(*args)` for every args of `calls` in worker processes, as many at once as this process
    may use cores, each pinned to one core; returns the cores used. Workers live for the whole
    pool (each took its core once): with more calls than cores a worker takes the next call when
    its last one is done. Workers are fresh interpreters (spawn), so `fn` and its arguments must
    pickle; an exception in a worker is raised here."""
    import multiprocessing

    cores = sorted(os.sched_getaffinity(0))[:max(1, len(calls))]
    context = multiprocessing.get_context("spawn")  # no forked JAX state
    queue = context.Queue()
    for core in cores:
        queue.put(core)
    with context.Pool(len(cores), initializer=_pin_to_a_core, initargs=(queue,)) as pool:
        pool.starmap(fn, calls)
    return cores
