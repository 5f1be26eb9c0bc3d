"""The offline TD3 oracle: one TD3 per task, trained on the same dataset with that task's reward,
all tasks at once (the TD3 state is vmapped over tasks)."""

import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.baselines.td3 import TD3, TD3State


def train_oracles(td3: TD3, arrays: dict[str, np.ndarray], rewards: np.ndarray, num_steps: int,
                  steps_per_call: int, seed: int,
                  progress_fn: Callable[[str], None] | None = print) -> TD3State:
    """rewards: (N, T). Returns a TD3State whose leaves have a leading task axis T."""
    num_tasks = rewards.shape[1]
    shared = {"obs": jnp.asarray(arrays["obs"], jnp.float32),
              "action": jnp.asarray(arrays["action"], jnp.float32),
              "next_obs": jnp.asarray(arrays["next_obs"], jnp.float32),
              "discount": jnp.asarray(1.0 - arrays["terminal"], jnp.float32)}
    task_rewards = jnp.asarray(rewards.T, jnp.float32)
    keys = jax.random.split(jax.random.PRNGKey(seed), num_tasks)
    state = jax.vmap(td3.init)(keys)

    def chunk(state, task_rewards, key, n):
        def one(s, r, k):
            return td3.train_steps(s, {**shared, "reward": r}, k, n)
        return jax.vmap(one)(state, task_rewards, jax.random.split(key, num_tasks))

    compiled = {}
    base, start, done = jax.random.PRNGKey(seed + 1), time.perf_counter(), 0
    while done < num_steps:
        n = min(steps_per_call, num_steps - done)
        if n not in compiled:
            compiled[n] = jax.jit(lambda s, r, k, n=n: chunk(s, r, k, n), donate_argnums=0)
        state, metrics = compiled[n](state, task_rewards, jax.random.fold_in(base, done))
        done += n
        q = np.asarray(metrics["q_mean"])
        if not np.all(np.isfinite(q)):
            raise FloatingPointError(f"TD3 oracle: non-finite Q at step {done}: {q}")
        if progress_fn is not None:
            rate = done / max(time.perf_counter() - start, 1e-9)
            progress_fn(f"TD3 oracle ({num_tasks} tasks at once): step {done}/{num_steps}  "
                        f"{rate:.1f} steps/s  ETA {(num_steps - done) / rate:.0f}s  "
                        f"mean Q per task {[round(float(v), 2) for v in q]}")
    return state
