"""Every domain and task as a brax `Env`, so brax's own trainers (PPO, SAC) run on them, e.g. to
compare a reward-trained online agent with FB's zero-shot policy on the same task.

    env = fbjax.envs.brax_env("point_mass", "reach_top_left")
    make_policy, params, _ = brax.training.agents.ppo.train.train(env, num_timesteps=..., ...)

The brax state's `pipeline_state` is fbjax's `EnvState`; the reward is the task's reward of the
state each step reaches (as the evaluator scores it). Episodes never end on their own: brax's
training wrapper cuts them at `episode_length` (the domain's is `Domain.episode_length`).
brax is imported only here, so the rest of fbjax does not need it.

brax 0.14.2 (the newest release) trains with `jax.device_put_replicated`, which jax 0.10 removed;
`enable_brax_trainers()` puts back an equivalent (stacked copies, one per device, as pmap takes
them) before you call a brax trainer. It changes nothing else.
"""

import jax
import jax.numpy as jnp
from brax.envs.base import Env, State

from fbjax.envs.base import Domain


class BraxTask(Env):
    """One task of one domain."""

    def __init__(self, domain: Domain, task: str):
        domain.task_fn(task)  # raises with the domain's task list
        self.domain, self.task = domain, task
        self._task_id = domain.task_names.index(task)

    def reset(self, rng: jnp.ndarray) -> State:
        state = self.domain.reset(rng)
        zero = jnp.zeros(())
        return State(pipeline_state=state, obs=state.obs, reward=zero, done=zero)

    def step(self, state: State, action: jnp.ndarray) -> State:
        next_state = self.domain.step(state.pipeline_state, action)
        reward = self.domain.task_rewards(next_state.data, action)[self._task_id]
        return state.replace(pipeline_state=next_state, obs=next_state.obs, reward=reward,
                             done=jnp.zeros_like(state.done))

    @property
    def observation_size(self) -> int:
        return self.domain.obs_dim

    @property
    def action_size(self) -> int:
        return self.domain.action_dim

    @property
    def backend(self) -> str:
        return "mjx"


def enable_brax_trainers() -> None:
    """Lets brax 0.14.2's PPO / SAC / APG run on jax >= 0.10 (see the module docstring)."""
    try:
        jax.device_put_replicated  # noqa: B018 -- present on jax < 0.10
    except AttributeError:
        def device_put_replicated(x, devices):
            return jax.tree.map(lambda a: jnp.stack([jnp.asarray(a)] * len(devices)), x)

        jax.device_put_replicated = device_put_replicated
