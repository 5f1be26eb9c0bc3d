"""The vectorised evaluator: P prompts x E episodes of a domain in one compiled program.

`make_evaluator(domain, policy_fn, num_episodes)` returns a jitted
`evaluate(shared, per_prompt, task_ids, key)`: prompt p runs E full episodes with
`policy_fn(shared, per_prompt[p], obs (E, obs_dim), key)` and is scored on task `task_ids[p]`.

Rollouts are paired (SPEC section 7): episode e of a prompt on task t starts from the state drawn
with `episode_key(key, t, e)`, whatever the prompt's position, so every method evaluated on task t
with the same `key` sees the same E start states. Policy noise (the random policy) is keyed the
same way.

Returned arrays: "return" and "discounted" (P, E) on the prompt's own task; "task_returns" and
"task_discounted" (P, E, T) on every task of the domain (the rewards are computed anyway); and,
with a `cell_fn`, "occupancy" (P, num_cells): the discounted state-visit distribution of the
prompt's policy over the cells `cell_fn(obs)` names, averaged over its episodes. The undiscounted
return sums the rewards the steps report (the reward of the state each step reaches, as DM
Control); the discounted one weights step t's reward by gamma^t, the quantity the ratio's J_hat
and FB's value estimate.
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
        return networks.actor_mean(params.actor, obs, jnp.broadcast_to(z, (obs.shape[0],
                                                                               z.shape[-1])))
    return policy


def actor_policy(apply_fn: Callable) -> PolicyFn:
    """A deterministic actor (e.g. TD3's); per-prompt = that prompt's actor params."""
    def policy(shared, actor_params, obs, key):
        del shared, key
        return apply_fn(actor_params, obs)
    return policy


def navigator_policy() -> PolicyFn:
    """The point-mass maze's scripted navigator; per-prompt = the goal (x, y)."""
    from fbjax.envs.point_mass_maze import navigator

    def policy(shared, goal, obs, key):
        del shared, key
        return navigator(goal)(obs)
    return policy


def random_policy(action_dim: int) -> PolicyFn:
    """Uniform actions in [-1, 1]; per-prompt values are ignored."""
    def policy(shared, per_prompt, obs, key):
        del shared, per_prompt
        return jax.random.uniform(key, (obs.shape[0], action_dim), minval=-1.0, maxval=1.0)
    return policy


def episode_key(key: jax.Array, task_id, episode) -> jax.Array:
    """The key of episode `episode` on task `task_id`: its start state and policy noise."""
    return jax.random.fold_in(jax.random.fold_in(key, task_id), episode)


def make_evaluator(domain: Domain, policy_fn: PolicyFn, num_episodes: int,
                   episode_length: int | None = None, discount: float = 0.98,
                   cell_fn: Callable[[jax.Array], jax.Array] | None = None,
                   num_cells: int = 0) -> Callable:
    if num_episodes < 1:
        raise ValueError(f"make_evaluator: num_episodes must be >= 1, got {num_episodes}")
    if cell_fn is not None and num_cells < 1:
        raise ValueError(f"make_evaluator: a cell_fn needs num_cells >= 1, got {num_cells}")
    length = episode_length or domain.episode_length
    num_tasks = len(domain.task_names)

    def one_prompt(shared, per_prompt, task_id, key):
        keys = jax.vmap(lambda e: episode_key(key, task_id, e))(jnp.arange(num_episodes))
        reset_keys, act_keys = jax.vmap(jax.random.split, out_axes=1)(keys)
        states = jax.vmap(domain.reset)(reset_keys)

        def step(carry, t):
            states, total, discounted, occupancy = carry
            step_key = jax.vmap(lambda k: jax.random.fold_in(k, t))(act_keys)
            # One episode per call, so each episode's noise follows its own (task, episode) key.
            action = jax.vmap(lambda o, k: policy_fn(shared, per_prompt, o[None], k)[0])(
                states.obs, step_key)
            states = jax.vmap(domain.step)(states, action)
            clipped = jnp.clip(action, -1.0, 1.0)
            rewards = jax.vmap(domain.task_rewards)(states.data, clipped)  # (E, T)
            if cell_fn is not None:
                visits = jax.nn.one_hot(jax.vmap(cell_fn)(states.obs), num_cells).mean(axis=0)
                occupancy = occupancy + discount ** t * visits
            return (states, total + rewards, discounted + discount ** t * rewards,
                    occupancy), None

        zeros = jnp.zeros((num_episodes, num_tasks))
        init = (states, zeros, zeros, jnp.zeros(max(num_cells, 1)))
        (_, total, discounted, occupancy), _ = jax.lax.scan(step, init, jnp.arange(length))
        out = {"return": total[:, task_id], "discounted": discounted[:, task_id],
               "task_returns": total, "task_discounted": discounted}
        if cell_fn is not None:
            out["occupancy"] = occupancy / occupancy.sum()
        return out

    def evaluate(shared, per_prompt, task_ids, key):
        return jax.vmap(one_prompt, in_axes=(None, 0, 0, None))(shared, per_prompt, task_ids,
                                                                 key)

    return jax.jit(evaluate)


def summarize(returns: np.ndarray) -> dict[str, float]:
    """Mean and 95% normal-approximation confidence half-width over episodes."""
    returns = np.asarray(returns, np.float64)
    spread = returns.std(ddof=1) if returns.size > 1 else 0.0
    return {"mean": float(returns.mean()), "ci95": float(1.96 * spread / np.sqrt(returns.size))}
