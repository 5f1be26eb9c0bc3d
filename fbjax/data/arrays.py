"""Data from outside fbjax's simulators: transitions from plain arrays, rewards as functions of
observations, and the on-disk dataset without simulator state.

    transitions = from_arrays(obs, action, next_obs, terminal=done)     # numpy or JAX arrays
    rewards = observation_rewards({"reach": reach, "run": run}, transitions)   # (N, 2)
    save_transitions("my_data", transitions, source={"source": "robot logs"})
    transitions = load_transitions("my_data")

FB needs no simulator to train: s, a, s', the terminal flag and which rows start an episode are
enough (`fbjax.train.train_run` on the `Transition`). A reward is then any function
`reward(next_obs, action) -> scalar` of one row, written in jax.numpy: the reward of the state a
step reaches and the action that reached it, which is what FB's reward inference reads (r(s')
with B(s')) and what `fbjax.envs.with_tasks` adds to a simulated domain as a task.
"""

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.data.store import DatasetError, load_dataset, save_dataset
from fbjax.types import Transition

RewardFn = Callable[[jax.Array, jax.Array], jax.Array]  # (next_obs, action) -> scalar


def _rows(name: str, value, ndim: tuple[int, ...]) -> np.ndarray:
    value = np.asarray(value)
    if value.ndim not in ndim:
        raise DatasetError(f"from_arrays: {name} has shape {value.shape}; expected "
                           f"{' or '.join({1: '(N,)', 2: '(N, width)'}[d] for d in ndim)}")
    if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
        bad = int(np.argwhere(~np.isfinite(value.reshape(len(value), -1)))[0, 0])
        raise DatasetError(f"from_arrays: {name} has NaN/inf (first at row {bad})")
    return value


def episode_starts(obs: np.ndarray, next_obs: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """1.0 where a row starts an episode: the first row, a row after an episode end (terminal or
    timeout), and a row whose s is not the previous row's s' (the log jumped)."""
    start = np.zeros(len(obs), np.float32)
    start[0] = 1.0
    start[1:] = (ends[:-1] > 0) | np.any(obs[1:] != next_obs[:-1], axis=1)
    return start


def from_arrays(obs, action, next_obs, terminal=None, start=None, timeout=None) -> Transition:
    """A dataset of N transitions, checked, as float32 host arrays.

    obs, next_obs: (N, obs_dim). action: (N, action_dim) continuous in [-1, 1] (or (N,) integer
    for discrete actions). terminal: (N,), nonzero where s' ends the episode with no future
    (not a time limit); default none. start: (N,), nonzero where s is an episode's first state
    (FB's rho0 for the density ratio, ZOL and the off-policy estimates); default inferred by
    `episode_starts` from terminal, `timeout` (nonzero where the log cut an episode off at a
    time limit) and breaks between consecutive rows."""
    obs, next_obs = _rows("obs", obs, (2,)), _rows("next_obs", next_obs, (2,))
    action = _rows("action", action, (1, 2))
    n = len(obs)
    if n == 0:
        raise DatasetError("from_arrays: no rows")
    if next_obs.shape != obs.shape:
        raise DatasetError(f"from_arrays: next_obs has shape {next_obs.shape}, obs {obs.shape}; "
                           "they must match")
    if len(action) != n:
        raise DatasetError(f"from_arrays: action has {len(action)} rows, obs {n}")
    if action.ndim == 1 and not np.issubdtype(action.dtype, np.integer):
        raise DatasetError(f"from_arrays: a 1-D action must be integer (discrete), got "
                           f"{action.dtype}; continuous actions are (N, action_dim)")
    if action.ndim == 2 and np.any(np.abs(action) > 1.0 + 1e-6):
        raise DatasetError(f"from_arrays: continuous actions must lie in [-1, 1] (the actor's "
                           f"tanh range); the largest |action| is {np.abs(action).max():.4g}: "
                           "rescale them first")
    flags = {}
    for name, value in (("terminal", terminal), ("start", start), ("timeout", timeout)):
        value = np.zeros(n) if value is None else _rows(name, value, (1,))
        if len(value) != n:
            raise DatasetError(f"from_arrays: {name} has {len(value)} rows, obs {n}")
        flags[name] = (value != 0).astype(np.float32)
    if start is None:
        flags["start"] = episode_starts(obs, next_obs, np.maximum(flags["terminal"],
                                                                  flags["timeout"]))
    action = action.astype(np.int32 if action.ndim == 1 else np.float32)
    return Transition(obs=obs.astype(np.float32), action=action,
                      next_obs=next_obs.astype(np.float32), terminal=flags["terminal"],
                      start=flags["start"])


def _named(rewards: RewardFn | Mapping[str, RewardFn]) -> dict[str, RewardFn]:
    if callable(rewards):
        return {getattr(rewards, "__name__", "reward"): rewards}
    named = dict(rewards)
    if not named or not all(callable(f) for f in named.values()):
        raise TypeError("observation_rewards: give a reward function or a non-empty dict "
                        "name -> function")
    return named


def observation_rewards(rewards: RewardFn | Mapping[str, RewardFn], transitions: Transition,
                        chunk_size: int = 65_536) -> np.ndarray:
    """Rewards of every row, shape (N, P), for P functions `reward(next_obs, action) -> scalar`
    (a function, or a dict name -> function, in its order), in one compiled call processed
    `chunk_size` rows at a time. Each function must return a scalar for one row; the error names
    the one that does not."""
    named = _named(rewards)
    next_obs, action = jnp.asarray(transitions.next_obs), jnp.asarray(transitions.action)
    row = [jax.ShapeDtypeStruct(x.shape[1:], x.dtype) for x in (next_obs, action)]
    for name, fn in named.items():
        shape = jax.eval_shape(fn, *row).shape
        if shape != ():
            raise ValueError(f"observation_rewards: reward {name!r} returns shape {shape} for one "
                             "transition; it must return a scalar (write it for one row, not a "
                             "batch)")
    fns = tuple(named.values())

    def one(pair):
        return jnp.stack([jnp.asarray(f(*pair), jnp.float32) for f in fns])

    batch = max(1, min(int(chunk_size), len(next_obs)))
    run = jax.jit(lambda o, a: jax.lax.map(one, (o, a), batch_size=batch))
    return np.asarray(run(next_obs, action))


def save_transitions(directory: str, transitions: Transition,
                     source: Mapping | None = None) -> None:
    """Writes `transitions` as an fbjax dataset without simulator state (`"env": null`); `source`
    (JSON-able) is kept as the manifest's `collection`, saying where the data came from."""
    arrays = {k: np.asarray(getattr(transitions, k))
              for k in ("obs", "action", "next_obs", "terminal", "start")}
    save_dataset(directory, arrays, env=None, tasks=[],
                 collection=dict(source or {"source": "arrays"}), seed=0)


def load_transitions(directory: str) -> Transition:
    """The transitions of any fbjax dataset (with or without simulator state), as float32 host
    arrays (integer actions stay int32), checked against its manifest (and, when it names a
    domain, against that domain, as `load_dataset` does)."""
    return load_dataset(directory).transitions()
