"""MJX environments with task libraries: `domains()`, `make(name)`, `tasks(name)`.

Every domain steps on MJX's JAX implementation (CPU, GPU, TPU) and every task reward is a pure
function of the stored physics state and action (see `fbjax.envs.base.Domain`).
"""

import contextlib
import functools
import sys

# Where warp is not installed (e.g. the GPU image), importing mujoco.mjx prints "Failed to import
# warp" to stdout, which corrupts the JSON lines the benchmarks print there: send it to stderr.
with contextlib.redirect_stdout(sys.stderr):
    from mujoco import mjx  # noqa: F401

from fbjax.envs import cheetah, hopper, humanoid, point_mass, point_mass_maze, quadruped, walker
from fbjax.envs.base import Domain, EnvState

_FACTORIES = {
    "point_mass": point_mass.make,
    "point_mass_maze": point_mass_maze.make,
    "walker": walker.make,
    "cheetah": cheetah.make,
    "hopper": hopper.make,
    "quadruped": quadruped.make,
    "humanoid": humanoid.make,
}


def domains() -> tuple[str, ...]:
    """Names of the domains `make` builds."""
    return tuple(_FACTORIES)


@functools.cache
def make(name: str) -> Domain:
    """The domain called `name` (cached: a model is parsed and put on device once)."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown domain {name!r}; expected one of {list(_FACTORIES)}")
    return _FACTORIES[name]()


def tasks(name: str) -> tuple[str, ...]:
    """Task names of a domain, in the order `Domain.rewards` returns them."""
    return make(name).task_names


def navigator_goals(name: str, tasks) -> list[tuple[float, float]]:
    """The goal (x, y) of each of `tasks` of domain `name` for its scripted navigator
    (`fbjax.envs.point_mass_maze.navigator`); refuses a domain or task without one (only the
    point-mass maze's reach tasks have one)."""
    goals = dict(point_mass.TARGETS) if name == "point_mass_maze" else {}
    missing = [t for t in tasks if t not in goals]
    if missing:
        raise ValueError(f"domain {name!r} has no scripted navigator for {missing}" + (
            f" (it has one for {sorted(goals)}; choose them with eval.tasks)" if goals
            else " (only point_mass_maze has one)"))
    return [goals[t] for t in tasks]


def brax_env(name: str, task: str):
    """Task `task` of domain `name` as a brax `Env` (imports brax on first use)."""
    from fbjax.envs.brax_adapter import BraxTask

    return BraxTask(make(name), task)


__all__ = ["Domain", "EnvState", "brax_env", "domains", "make", "navigator_goals", "tasks"]
