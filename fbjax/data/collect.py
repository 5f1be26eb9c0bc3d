"""Reward-free data collection: many MJX environments stepped in parallel in one compiled call.

Each call of the rollout resets `num_envs` environments and runs one full episode in each under
`vmap` + `lax.scan`, returning the transitions env-major (each episode's rows contiguous, its
first row flagged `start`). Exploration policies:

* `uniform`: actions uniform in [-1, 1]^A;
* `noise`: temporally correlated Gaussian noise, an AR(1) process per action dimension with
  correlation `noise_correlation` and stationary scale `noise_scale`, clipped to [-1, 1];
* `rnd`: a TD3 explorer of the RND novelty bonus (`fbjax.baselines.rnd`), trained between episodes
  on a replay of the latest `buffer_size` transitions, and inside them every
  `rnd.segment_length` steps when that is set; the first episode uses uniform actions.

Episodes start where the domain's reset puts them (`start="task"`, as in ExoRL's datasets) or,
with `start="anywhere"`, all over the domain's free space (`Domain.anywhere_qpos`; the maze only).
The flagged first rows of such episodes are then not the tasks' start distribution: ZOL, the
ratio-weighted regression and the off-policy estimates take rho0 from them.
"""

import dataclasses
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.baselines.rnd import RND, RNDConfig, RNDState
from fbjax.envs.base import Domain

POLICIES = ("uniform", "noise", "rnd")
STARTS = ("task", "anywhere")


@dataclasses.dataclass(frozen=True)
class CollectConfig:
    policy: str = "rnd"
    num_envs: int = 64
    num_episodes: int = 2  # per environment
    episode_length: int = 0  # 0: the domain's (1000 control steps)
    noise_correlation: float = 0.9
    noise_scale: float = 0.6
    rnd: RNDConfig = RNDConfig()
    # Where episodes start: "task", the domain's own reset (the tasks' start distribution, as
    # ExoRL's data); "anywhere", the domain's `anywhere_qpos` (all of its free space).
    start: str = "task"

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"CollectConfig.policy {self.policy!r} is not one of {POLICIES}")
        if self.start not in STARTS:
            raise ValueError(f"CollectConfig.start {self.start!r} is not one of {STARTS}")
        for name in ("num_envs", "num_episodes"):
            if getattr(self, name) < 1:
                raise ValueError(f"CollectConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.episode_length < 0:
            raise ValueError(f"CollectConfig.episode_length must be >= 0 (0: the domain's), "
                             f"got {self.episode_length}")
        if not 0.0 <= self.noise_correlation < 1.0:
            raise ValueError(f"CollectConfig.noise_correlation must be in [0, 1), "
                             f"got {self.noise_correlation}")

    def length(self, domain: Domain) -> int:
        return self.episode_length or domain.episode_length

    def total_steps(self, domain: Domain) -> int:
        return self.num_envs * self.num_episodes * self.length(domain)


def _policy_fn(config: CollectConfig, rnd: RND | None, policy: str):
    rho, sigma = config.noise_correlation, config.noise_scale
    innovation = np.sqrt(1 - rho ** 2) * sigma

    def act(policy_state, obs, noise, key):
        if policy == "uniform":
            return jax.random.uniform(key, noise.shape, minval=-1.0, maxval=1.0), noise
        if policy == "noise":
            noise = rho * noise + innovation * jax.random.normal(key, noise.shape)
            return jnp.clip(noise, -1.0, 1.0), noise
        return rnd.act(policy_state, obs, key), noise

    return act


def _scan_step(domain: Domain, act, policy_state) -> Callable:
    """One step of every environment, as a `lax.scan` body over (env states, noise) and keys."""

    def step(carry, key):
        states, noise = carry
        action, noise = act(policy_state, states.obs, noise, key)
        next_states = jax.vmap(domain.step)(states, action)
        out = {"obs": states.obs, "action": action, "next_obs": next_states.obs,
               "next_physics": jax.vmap(domain.physics)(next_states)}
        return (next_states, noise), out

    return step


def make_rollout(domain: Domain, config: CollectConfig, rnd: RND | None = None,
                 policy: str | None = None) -> Callable:
    """jit-compiled `(policy_state, key) -> dict of arrays`, num_envs * length rows."""
    act = _policy_fn(config, rnd, policy or config.policy)
    num_envs, length = config.num_envs, config.length(domain)

    def rollout(policy_state, key):
        reset_key, noise_key, step_key = jax.random.split(key, 3)
        states = jax.vmap(domain.reset)(jax.random.split(reset_key, num_envs))
        noise = config.noise_scale * jax.random.normal(noise_key, (num_envs, domain.action_dim))
        _, out = jax.lax.scan(_scan_step(domain, act, policy_state), (states, noise),
                              jax.random.split(step_key, length))
        out = jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1).reshape(num_envs * length,
                                                                   *x.shape[2:]), out)
        first = jnp.tile(jnp.arange(length) == 0, num_envs)
        out["start"] = first.astype(jnp.float32)
        out["terminal"] = jnp.zeros(num_envs * length, jnp.float32)
        return out

    return jax.jit(rollout)


def _insert_rows(buffer: dict, block: dict, row: jax.Array) -> dict:
    """`block` written into the replay `buffer` from row `row` on."""
    return jax.tree.map(lambda b, x: jax.lax.dynamic_update_slice_in_dim(b, x, row, 0), buffer,
                        block)


def make_segment(domain: Domain, config: CollectConfig, rnd: RND, length: int) -> Callable:
    """jit-compiled `(policy_state, carry, key, uniform) -> (carry, arrays)`: `length` more steps
    of `num_envs` running episodes, carry = (env states, noise); arrays are env-major
    (num_envs, length, ...). `uniform` (static) acts uniformly instead of with the explorer."""
    explore, uniform_act = _policy_fn(config, rnd, "rnd"), _policy_fn(config, rnd, "uniform")

    def segment(policy_state, carry, key, uniform):
        step = _scan_step(domain, uniform_act if uniform else explore, policy_state)
        carry, out = jax.lax.scan(step, carry, jax.random.split(key, length))
        return carry, jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), out)

    return jax.jit(segment, static_argnums=3)


def _collect_in_segments(domain: Domain, config: CollectConfig, key: jax.Array,
                         rnd: RND, rnd_state: RNDState, sink, progress_fn) -> RNDState:
    """RND whose explorer learns every `segment_length` steps inside episodes too (the first
    episode acts uniformly); each episode block reaches `sink` whole, env-major."""
    settings, num_envs, length = config.rnd, config.num_envs, config.length(domain)
    seg = min(settings.segment_length, length)
    lengths = [seg] * (length // seg) + ([length % seg] if length % seg else [])
    # The replay holds whole segments; a shorter last segment fills part of its slot (the rows
    # past it keep older data, which the sampler may still draw).
    chunk = num_envs * seg
    slots = max(1, settings.buffer_size // chunk)
    buffer = {"obs": jnp.zeros((slots * chunk, domain.obs_dim)),
              "action": jnp.zeros((slots * chunk, domain.action_dim)),
              "next_obs": jnp.zeros((slots * chunk, domain.obs_dim))}
    segments = {n: make_segment(domain, config, rnd, n) for n in set(lengths)}
    reset = jax.jit(lambda k: jax.vmap(domain.reset)(jax.random.split(k, num_envs)))
    insert = jax.jit(_insert_rows, donate_argnums=0)
    learn = jax.jit(rnd.train_steps, static_argnums=4)
    observe = jax.jit(rnd.observe)
    total, start_time, inserted, extra = config.total_steps(domain), time.perf_counter(), 0, ""
    for episode in range(config.num_episodes):
        reset_key, noise_key, key_rest = jax.random.split(jax.random.fold_in(key, episode), 3)
        carry = (reset(reset_key),
                 config.noise_scale * jax.random.normal(noise_key, (num_envs, domain.action_dim)))
        parts = []
        for s, n in enumerate(lengths):
            step_key, learn_key = jax.random.split(jax.random.fold_in(key_rest, s))
            carry, out = segments[n](rnd_state, carry, step_key, episode == 0)
            part = {k: out[k].reshape(num_envs * n, -1) for k in buffer}
            buffer = insert(buffer, part, jnp.asarray((inserted % slots) * chunk))
            inserted += 1
            rnd_state = observe(rnd_state, part["next_obs"])
            updates = max(1, round(settings.updates_per_episode * n / length))
            rnd_state, metrics = learn(rnd_state, buffer, jnp.asarray(min(inserted, slots) * chunk),
                                       learn_key, updates)
            parts.append(jax.tree.map(np.asarray, out))
        arrays = {k: np.concatenate([p[k] for p in parts], axis=1).reshape(
            num_envs * length, *parts[0][k].shape[2:]) for k in parts[0]}
        arrays["start"] = np.tile(np.arange(length) == 0, num_envs).astype(np.float32)
        arrays["terminal"] = np.zeros(num_envs * length, np.float32)
        extra = f"  rnd_loss={float(metrics['rnd_loss']):.4g}"
        sink(arrays)
        if progress_fn is not None:
            done = (episode + 1) * num_envs * length
            rate = done / max(time.perf_counter() - start_time, 1e-9)
            progress_fn(f"collect {domain.name}/rnd: episode block {episode + 1}/"
                        f"{config.num_episodes}  {done}/{total} env steps  {rate:,.0f} steps/s  "
                        f"ETA {(total - done) / rate:.0f}s  (explorer learns every {seg} steps)"
                        f"{extra}")
    return rnd_state


def collect(domain: Domain, config: CollectConfig, seed: int,
            sink: Callable[[dict[str, np.ndarray]], None],
            progress_fn: Callable[[str], None] | None = print) -> RNDState | None:
    """Collects `config.num_episodes` blocks of `num_envs` episodes; hands each block to `sink`
    as numpy arrays (the dataset fields). Returns the RND state for `rnd`, else None."""
    if config.start == "anywhere":
        if domain.anywhere_qpos is None:
            raise ValueError(f"CollectConfig.start='anywhere': domain {domain.name!r} has no "
                             "anywhere_qpos (only point_mass_maze does); use start='task'")
        domain = dataclasses.replace(domain, initial_qpos=domain.anywhere_qpos)
    init_key, key = jax.random.split(jax.random.PRNGKey(seed))
    if config.policy == "rnd" and config.rnd.segment_length > 0:
        rnd = RND(config.rnd, domain.obs_dim, domain.action_dim)
        return _collect_in_segments(domain, config, key, rnd, rnd.init(init_key), sink,
                                    progress_fn)
    rnd = rnd_state = buffer = None
    rollout = make_rollout(domain, config, policy="uniform" if config.policy == "rnd" else None)
    block = config.num_envs * config.length(domain)
    if config.policy == "rnd":
        rnd = RND(config.rnd, domain.obs_dim, domain.action_dim)
        rnd_state = rnd.init(init_key)
        explore = make_rollout(domain, config, rnd)
        slots = max(1, config.rnd.buffer_size // block)
        buffer = {"obs": jnp.zeros((slots * block, domain.obs_dim)),
                  "action": jnp.zeros((slots * block, domain.action_dim)),
                  "next_obs": jnp.zeros((slots * block, domain.obs_dim))}
        insert = jax.jit(_insert_rows, donate_argnums=0)
        learn = jax.jit(rnd.train_steps)
        observe = jax.jit(rnd.observe)
    total, start_time, extra = config.total_steps(domain), time.perf_counter(), ""
    for episode in range(config.num_episodes):
        episode_key = jax.random.fold_in(key, episode)
        policy = explore if (rnd is not None and episode > 0) else rollout
        rollout_key, learn_key = jax.random.split(episode_key)
        arrays = policy(rnd_state, rollout_key)
        if rnd is not None:
            part = {k: arrays[k] for k in buffer}
            buffer = insert(buffer, part, jnp.asarray((episode % slots) * block))
            rnd_state = observe(rnd_state, part["next_obs"])
            size = jnp.asarray(min(episode + 1, slots) * block)
            rnd_state, metrics = learn(rnd_state, buffer, size,
                                       learn_key)
            extra = f"  rnd_loss={float(metrics['rnd_loss']):.4g}"
        sink({k: np.asarray(v) for k, v in arrays.items()})
        if progress_fn is not None:
            done = (episode + 1) * block
            rate = done / max(time.perf_counter() - start_time, 1e-9)
            progress_fn(f"collect {domain.name}/{config.policy}: episode block "
                        f"{episode + 1}/{config.num_episodes}  {done}/{total} env steps  "
                        f"{rate:,.0f} steps/s  ETA {(total - done) / rate:.0f}s{extra}")
    return rnd_state
