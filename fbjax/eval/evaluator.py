"""The vectorised evaluator: P prompts x E episodes of a domain in one compiled program.

`make_evaluator(domain, policy_fn, num_episodes)` returns a jitted
`evaluate(shared, per_prompt, task_ids, key) -> {"return": (P, E), "discounted": (P, E)}`:
prompt p runs E full episodes with `policy_fn(shared, per_prompt[p], obs (E, obs_dim), key)`
and is scored on task `task_ids[p]`. The undiscounted return sums the rewards the steps report
(the reward of the state each step reaches, as DM Control); the discounted one weights step t's
reward by gamma^t, the quantity the ratio's J_hat and FB's value estimate.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.envs.base import Domain
from fbjax.fb.networks import FBNetworks

PolicyFn = Callable[[object, object, jax.Array, jax.Array], jax.Array]


def fb_policy(networks: FBNetworks) -> PolicyFn:
    """pi_z's mean action; shared = FB params, per-prompt = z (d,)."""
    def policy(params, z, obs, key):
        del key
        return networks.actor_mean(params["actor"], obs, jnp.broadcast_to(z, (obs.shape[0],
                                                                               z.shape[-1])))
    return policy


def actor_policy(apply_fn: Callable) -> PolicyFn:
    """A deterministic actor (e.g. TD3's); per-prompt = that prompt's actor params."""
    def policy(shared, actor_params, obs, key):
        del shared, key
        return apply_fn(actor_params, obs)
    return policy


def random_policy(action_dim: int) -> PolicyFn:
    """Uniform actions in [-1, 1]; per-prompt values are ignored."""
    def policy(shared, per_prompt, obs, key):
        del shared, per_prompt
        return jax.random.uniform(key, (obs.shape[0], action_dim), minval=-1.0, maxval=1.0)
    return policy


def make_evaluator(domain: Domain, policy_fn: PolicyFn, num_episodes: int,
                   episode_length: int | None = None, discount: float = 0.98) -> Callable:
    if num_episodes < 1:
        raise ValueError(f"make_evaluator: num_episodes must be >= 1, got {num_episodes}")
    length = episode_length or domain.episode_length

    def one_prompt(shared, per_prompt, task_id, key):
        reset_key, act_key = jax.random.split(key)
        states = jax.vmap(domain.reset)(jax.random.split(reset_key, num_episodes))

        def step(carry, t):
            states, total, discounted = carry
            action = policy_fn(shared, per_prompt, states.obs, jax.random.fold_in(act_key, t))
            states = jax.vmap(domain.step)(states, action)
            clipped = jnp.clip(action, -1.0, 1.0)
            reward = jax.vmap(lambda d, a: domain.task_rewards(d, a)[task_id])(states.data,
                                                                                 clipped)
            return (states, total + reward, discounted + discount ** t * reward), None

        zeros = jnp.zeros(num_episodes)
        (_, total, discounted), _ = jax.lax.scan(step, (states, zeros, zeros),
                                                  jnp.arange(length))
        return {"return": total, "discounted": discounted}

    def evaluate(shared, per_prompt, task_ids, key):
        keys = jax.random.split(key, task_ids.shape[0])
        return jax.vmap(one_prompt, in_axes=(None, 0, 0, 0))(shared, per_prompt, task_ids, keys)

    return jax.jit(evaluate)


def summarize(returns: np.ndarray) -> dict[str, float]:
    """Mean and 95% normal-approximation confidence half-width over episodes."""
    returns = np.asarray(returns, np.float64)
    spread = returns.std(ddof=1) if returns.size > 1 else 0.0
    return {"mean": float(returns.mean()), "ci95": float(1.96 * spread / np.sqrt(returns.size))}
