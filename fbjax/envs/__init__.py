"""MJX environments with task libraries: `domains()`, `make(name)`, `tasks(name)`; `register`
adds a domain of one's own, `from_mjx_env` makes one of a MuJoCo Playground environment,
`with_tasks` adds rewards of one's own to a domain, and `with_action_repeat` makes a
coarser-controlled copy of one.

Every domain steps on MJX's JAX implementation (CPU, GPU, TPU) and every task reward is a pure
function of the stored physics state and action (see `fbjax.envs.base.Domain`).
"""

import contextlib
import dataclasses
import functools
import sys
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp

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
_BUILT_IN = frozenset(_FACTORIES)


def domains() -> tuple[str, ...]:
    """Names of the domains `make` builds."""
    return tuple(_FACTORIES)


def register(name: str, factory: Callable[[], Domain]) -> None:
    """Makes `envs.make(name)` return `factory()` in this process, so the pipeline, datasets and
    validators can use a domain fbjax does not ship. The factory's domain must be called `name`
    (datasets record it); a built-in name cannot be replaced."""
    if name in _BUILT_IN:
        raise ValueError(f"register: {name!r} is a built-in domain; choose another name")
    if not callable(factory):
        raise TypeError(f"register: factory for {name!r} must be a callable returning a Domain, "
                        f"got {type(factory).__name__}")
    _FACTORIES[name] = factory


def with_action_repeat(domain: Domain, repeat: int, name: str | None = None) -> Domain:
    """`domain` controlled `repeat` times more coarsely: each control step holds its action for
    repeat x n_substeps physics steps, and an episode keeps its duration in simulated time
    (episode_length // repeat control steps). Rewards are read at the end of each control step,
    as always, so returns count control steps. Named `name` (default NAME_xREPEAT)."""
    if repeat < 1 or domain.episode_length % repeat:
        raise ValueError(f"with_action_repeat: repeat must be >= 1 and divide the episode length "
                         f"{domain.episode_length}, got {repeat}")
    return dataclasses.replace(domain, name=name or f"{domain.name}_x{repeat}",
                               n_substeps=domain.n_substeps * repeat,
                               episode_length=domain.episode_length // repeat)


ObservationReward = Callable[[jax.Array, jax.Array], jax.Array]


def with_tasks(domain: Domain, rewards: Mapping[str, ObservationReward],
               name: str | None = None) -> Domain:
    """`domain` with more tasks: each reward is a function `reward(next_obs, action) -> scalar`
    of the observation a step reaches and the action that reached it, written in jax.numpy (the
    convention of `fbjax.data.observation_rewards`). The new tasks come after the domain's own,
    so the evaluator scores a policy on them, `relabel` computes them from stored physics, and the
    pipeline prompts and evaluates them like any library task. The copy reads the original's
    datasets (`Domain.data_of`); `register` it under `name` for the binaries to use it."""
    clash = sorted(set(rewards) & set(domain.tasks))
    if clash:
        raise ValueError(f"with_tasks: task(s) {clash} already in {domain.name!r} (tasks "
                         f"{list(domain.tasks)}); give new reward names")
    tasks = {**domain.tasks, **_observation_tasks(domain, rewards, "with_tasks")}
    return dataclasses.replace(domain, name=name or domain.name, tasks=tasks,
                               data_of=domain.data_of or domain.name)


def _observation_tasks(domain: Domain, rewards: Mapping[str, ObservationReward],
                       where: str) -> dict:
    """Rewards of observations as tasks of `domain` (functions of its data and the action),
    each checked to return a scalar."""
    if not rewards:
        raise ValueError(f"{where}: give at least one reward, name -> reward(next_obs, action)")
    row = jax.eval_shape(domain.observe, mjx.make_data(domain.model))
    action = jax.ShapeDtypeStruct((domain.action_dim,), jnp.float32)
    tasks = {}
    for task, reward in rewards.items():
        shape = jax.eval_shape(reward, row, action).shape
        if shape != ():
            raise ValueError(f"{where}: reward {task!r} returns shape {shape} for one "
                             f"observation ({row.shape}) and action ({action.shape}); it must "
                             "return a scalar")
        tasks[task] = functools.partial(_of_observation, domain.observe, reward)
    return tasks


def from_mjx_env(name: str, env, rewards: Mapping[str, ObservationReward],
                 observe: Callable | None = None, episode_length: int | None = None) -> Domain:
    """A domain from an environment written for MuJoCo Playground (an `MjxEnv`, or anything with
    its contract: `mj_model`, `n_substeps`, and `reset(key)` returning a state whose `data` is
    the episode's first mjx.Data), with tasks given as rewards of observations (`with_tasks`'s
    convention). fbjax steps the env's model itself (MJX's JAX implementation, whatever `impl`
    the env was loaded with: load Playground envs with config_overrides={"impl": "jax"} so that
    their reset runs on the CPU too), from the qpos and qvel of the env's reset, with
    ctrl = clip(action, -1, 1) for `n_substeps` physics steps per control step, as Playground's
    step does. `observe(data)` gives the observation (default concat(qpos, qvel)); it must read
    only what qpos and qvel determine through kinematics, so that relabelled rewards equal the
    rollouts'. `register(name, lambda: from_mjx_env(name, ...))` makes the binaries use it."""
    missing = [a for a in ("mj_model", "n_substeps", "reset") if not hasattr(env, a)]
    if missing:
        raise TypeError(f"from_mjx_env: {type(env).__name__} lacks {missing}; expected an "
                        "MjxEnv-like environment (mj_model, n_substeps, reset(key).data)")
    length = episode_length or getattr(getattr(env, "_config", None), "episode_length", None)
    if not length:
        raise ValueError("from_mjx_env: give episode_length (the env's config has none)")
    domain = Domain(name=name, mj_model=env.mj_model,
                    model=mjx.put_model(env.mj_model, impl="jax"),
                    n_substeps=int(env.n_substeps),
                    observe=observe or (lambda d: jnp.concatenate([d.qpos, d.qvel])),
                    tasks={}, episode_length=int(length),
                    initial_qpos=lambda key: env.reset(key).data.qpos,
                    initial_qvel=lambda key: env.reset(key).data.qvel)
    return dataclasses.replace(domain, tasks=_observation_tasks(domain, rewards,
                                                                "from_mjx_env"))


def _of_observation(observe, reward, data, action):
    return jnp.asarray(reward(observe(data), action), jnp.float32)


@functools.cache
def make(name: str) -> Domain:
    """The domain called `name` (cached: a model is parsed and put on device once)."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown domain {name!r}; expected one of {list(_FACTORIES)}")
    domain = _FACTORIES[name]()
    if not isinstance(domain, Domain) or domain.name != name:
        raise ValueError(f"the factory registered as {name!r} returned "
                         f"{getattr(domain, 'name', type(domain).__name__)!r}; it must return a "
                         f"Domain named {name!r}")
    return domain


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
    """Task `task` of domain `name` as a brax `Env` (imports brax on first use: the [brax]
    extra)."""
    try:
        from fbjax.envs.brax_adapter import BraxTask
    except ModuleNotFoundError as error:
        if error.name is None or not error.name.startswith("brax"):
            raise
        raise ModuleNotFoundError('brax_env needs brax: pip install -c constraints.txt -e '
                                  '".[brax]"', name=error.name) from error

    return BraxTask(make(name), task)


__all__ = ["Domain", "EnvState", "brax_env", "domains", "from_mjx_env", "make", "navigator_goals",
           "register", "tasks", "with_action_repeat", "with_tasks"]
