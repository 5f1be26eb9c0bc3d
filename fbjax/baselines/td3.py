"""TD3 (Fujimoto et al., 2018) as pure functions: the offline oracle and RND's explorer.

`TD3.update(state, batch, key)` (the `fbjax.agent.Agent` protocol) takes a `fbjax.types.Labelled`
batch: obs, action, reward, next_obs and terminal (1.0 where s' ends the episode: no
bootstrapping). Twin
critics, target policy smoothing and delayed actor (and actor-target) updates as in the paper;
`bc_weight` > 0 adds the TD3+BC behaviour-cloning term (Fujimoto & Gu, 2021) for offline data.
"""

import dataclasses

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct

from fbjax.nets import MLP, dense
from fbjax.types import Labelled, Metrics, Params, PRNGKey


@dataclasses.dataclass(frozen=True)
class TD3Config:
    hidden: int = 256
    layers: int = 2
    lr: float = 3e-4
    discount: float = 0.98
    tau: float = 0.005
    policy_noise: float = 0.2
    noise_clip: float = 0.5
    policy_delay: int = 2
    batch_size: int = 256
    bc_weight: float = 0.0
    # Penalty on the actor's pre-tanh output, coef * mean(u^2): keeps the actor where tanh still
    # passes gradients (an actor saturated at +-1 gets none and cannot change; RND's explorer on
    # point mass did that and pinned the mass in a corner).
    preact_penalty: float = 0.0

    def __post_init__(self):
        for name in ("hidden", "layers", "policy_delay", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"TD3Config.{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"TD3Config.lr must be > 0, got {self.lr}")
        if not 0.0 < self.discount < 1.0:
            raise ValueError(f"TD3Config.discount must be in (0, 1), got {self.discount}")
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"TD3Config.tau must be in (0, 1], got {self.tau}")
        if self.preact_penalty < 0:
            raise ValueError(f"TD3Config.preact_penalty must be >= 0, got {self.preact_penalty}")


class DeterministicActor(nn.Module):
    hidden: int
    layers: int
    action_dim: int
    squash: bool = True  # False: the pre-tanh output (same parameters)

    @nn.compact
    def __call__(self, obs):
        u = dense(self.action_dim)(MLP((self.hidden,) * self.layers)(obs))
        return jnp.tanh(u) if self.squash else u


class TwinCritic(nn.Module):
    hidden: int
    layers: int

    @nn.compact
    def __call__(self, obs, action):
        x = jnp.concatenate([obs, action], -1)
        q1 = dense(1)(MLP((self.hidden,) * self.layers)(x))[..., 0]
        q2 = dense(1)(MLP((self.hidden,) * self.layers)(x))[..., 0]
        return q1, q2


@struct.dataclass
class TD3State:
    actor: Params
    critic: Params
    target_actor: Params
    target_critic: Params
    actor_opt: optax.OptState
    critic_opt: optax.OptState
    step: jax.Array


class TD3:
    """Static pieces (networks, optimiser, config); all state lives in `TD3State`."""

    def __init__(self, config: TD3Config, obs_dim: int, action_dim: int):
        self.config, self.obs_dim, self.action_dim = config, obs_dim, action_dim
        self.actor = DeterministicActor(config.hidden, config.layers, action_dim)
        self.actor_preact = DeterministicActor(config.hidden, config.layers, action_dim,
                                               squash=False)
        self.critic = TwinCritic(config.hidden, config.layers)
        self.optimizer = optax.adam(config.lr)
        self.batch_size = config.batch_size

    def init(self, key: PRNGKey) -> TD3State:
        actor_key, critic_key = jax.random.split(key)
        obs, action = jnp.zeros((1, self.obs_dim)), jnp.zeros((1, self.action_dim))
        actor = self.actor.init(actor_key, obs)
        critic = self.critic.init(critic_key, obs, action)
        copy = lambda tree: jax.tree.map(jnp.copy, tree)  # noqa: E731
        return TD3State(actor=actor, critic=critic, target_actor=copy(actor),
                        target_critic=copy(critic), actor_opt=self.optimizer.init(actor),
                        critic_opt=self.optimizer.init(critic), step=jnp.zeros((), jnp.int32))

    def act(self, actor_params: Params, obs: jax.Array) -> jax.Array:
        return self.actor.apply(actor_params, obs)

    def critic_target(self, state: TD3State, batch: Labelled, key: PRNGKey) -> jax.Array:
        """r + gamma (1 - terminal) min_i Q_i'(s', clip(mu'(s') + clipped noise))."""
        cfg = self.config
        noise = jnp.clip(cfg.policy_noise * jax.random.normal(key, batch.action.shape),
                         -cfg.noise_clip, cfg.noise_clip)
        next_action = jnp.clip(self.act(state.target_actor, batch.next_obs) + noise, -1, 1)
        next_q = jnp.minimum(*self.critic.apply(state.target_critic, batch.next_obs,
                                                next_action))
        return batch.reward + cfg.discount * (1.0 - batch.terminal) * next_q

    def critic_loss(self, critic, state: TD3State, batch: Labelled, key: PRNGKey):
        target = jax.lax.stop_gradient(self.critic_target(state, batch, key))
        q1, q2 = self.critic.apply(critic, batch.obs, batch.action)
        loss = jnp.mean((q1 - target) ** 2) + jnp.mean((q2 - target) ** 2)
        return loss, {"critic_loss": loss, "q_mean": q1.mean()}

    def actor_loss(self, actor, critic, batch: Labelled):
        cfg = self.config
        if cfg.preact_penalty > 0:
            u = self.actor_preact.apply(actor, batch.obs)
            action = jnp.tanh(u)
        else:
            action = self.act(actor, batch.obs)
        q = self.critic.apply(critic, batch.obs, action)[0]
        loss = -q.mean()
        if cfg.bc_weight > 0:
            scale = cfg.bc_weight / jax.lax.stop_gradient(jnp.abs(q).mean() + 1e-6)
            loss = scale * loss + jnp.mean((action - batch.action) ** 2)
        metrics = {"actor_loss": loss}
        if cfg.preact_penalty > 0:
            loss = loss + cfg.preact_penalty * jnp.mean(u ** 2)
            metrics["actor_saturated"] = jnp.mean(jnp.abs(action) > 0.99)
        return loss, metrics

    def update(self, state: TD3State, batch: Labelled, key: PRNGKey) -> tuple[TD3State, Metrics]:
        cfg = self.config
        chex.assert_shape([batch.obs, batch.next_obs], (None, self.obs_dim))
        chex.assert_shape(batch.action, (None, self.action_dim))
        chex.assert_shape([batch.reward, batch.terminal], (batch.obs.shape[0],))
        grads, metrics = jax.grad(self.critic_loss, has_aux=True)(state.critic, state, batch, key)
        updates, critic_opt = self.optimizer.update(grads, state.critic_opt, state.critic)
        critic = optax.apply_updates(state.critic, updates)

        grads, actor_metrics = jax.grad(self.actor_loss, has_aux=True)(state.actor, critic, batch)
        updates, new_actor_opt = self.optimizer.update(grads, state.actor_opt, state.actor)
        new_actor = optax.apply_updates(state.actor, updates)
        do_actor = (state.step % cfg.policy_delay) == 0
        pick = lambda new, old: jax.tree.map(lambda a, b: jnp.where(do_actor, a, b), new, old)  # noqa: E731
        actor, actor_opt = pick(new_actor, state.actor), pick(new_actor_opt, state.actor_opt)

        target_critic = optax.incremental_update(critic, state.target_critic, cfg.tau)
        target_actor = pick(optax.incremental_update(actor, state.target_actor, cfg.tau),
                            state.target_actor)
        new_state = TD3State(actor=actor, critic=critic, target_actor=target_actor,
                             target_critic=target_critic, actor_opt=actor_opt,
                             critic_opt=critic_opt, step=state.step + 1)
        return new_state, {**metrics, **actor_metrics}
