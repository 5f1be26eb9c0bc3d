"""Shared test settings: a persistent compilation cache so repeated compiles are cheap, and the
order the test files run in (longest first, for pytest-xdist)."""

import collections
import json
import os

import jax
import pytest

_CACHE = os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".jax_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
jax.config.update("jax_compilation_cache_dir", _CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


def pytest_configure(config):
    """xdist's `--dist loadfile` hands out files in collection order (the order below), not
    sorted by how many tests each holds (`--no-loadscope-reorder`, set here so README's command
    stays as it is, and pytest without xdist still runs)."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.hookimpl(trylast=True)  # after `-m` has deselected: order what will run
def pytest_collection_modifyitems(config, items):
    """Test files longest first (tests/durations.json; 0.1 s for a test it does not list), each
    file's tests in their own order, so that xdist's `--dist loadfile` hands out the long files
    first and ends on short ones."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "durations.json")) as f:
        seconds = json.load(f)
    per_file = collections.Counter()
    for item in items:
        per_file[item.nodeid.split("::")[0]] += seconds.get(item.nodeid, 0.1)
    items.sort(key=lambda item: -per_file[item.nodeid.split("::")[0]])
