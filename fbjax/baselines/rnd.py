"""RND exploration (Burda et al., 2019): a TD3 explorer maximising a random-network-distillation
novelty bonus, trained online while data is collected.

The bonus of s' is ||f(s') - g(s')||^2 for a fixed random network g and a predictor f trained to
match it on visited states; observations are standardised with running statistics first, and the
bonus is divided by its batch standard deviation so its scale stays fixed as f improves.
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct

from fbjax.agent import scan_updates, uniform_sampler
from fbjax.baselines.td3 import TD3, TD3Config, TD3State
from fbjax.nets import MLP, dense
from fbjax.types import Labelled, Metrics, Params, PRNGKey


@dataclasses.dataclass(frozen=True)
class RNDConfig:
    rep_dim: int = 64
    hidden: int = 256
    lr: float = 1e-4
    expl_noise: float = 0.2
    updates_per_episode: int = 250
    buffer_size: int = 200_000
    # The pre-tanh penalty keeps the explorer's actor out of saturation: without it the actor
    # ends at a = (+1, +1) everywhere on point mass and pins the mass in a corner
    # (studies/rnd_coverage/).
    td3: TD3Config = TD3Config(discount=0.99, tau=0.01, batch_size=256, preact_penalty=0.1)
    # > 0: the explorer also learns inside episodes, after every `segment_length` steps (the
    # episode's updates split over its segments), so it moves on from what it has just visited;
    # 0: it learns between episodes only.
    segment_length: int = 100

    def __post_init__(self):
        for name in ("rep_dim", "hidden", "updates_per_episode", "buffer_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"RNDConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"RNDConfig.lr must be > 0, got {self.lr}")
        if self.segment_length < 0:
            raise ValueError(f"RNDConfig.segment_length must be >= 0 (0: learn between episodes "
                             f"only), got {self.segment_length}")
        if self.expl_noise < 0:
            raise ValueError(f"RNDConfig.expl_noise must be >= 0, got {self.expl_noise}")


class Embedding(nn.Module):
    hidden: int
    rep_dim: int

    @nn.compact
    def __call__(self, obs):
        return dense(self.rep_dim)(MLP((self.hidden, self.hidden))(obs))


@struct.dataclass
class RNDState:
    explorer: TD3State
    predictor: Params
    target: Params
    predictor_opt: optax.OptState
    obs_mean: jax.Array
    obs_var: jax.Array
    obs_count: jax.Array


class RND:
    def __init__(self, config: RNDConfig, obs_dim: int, action_dim: int):
        self.config = config
        self.td3 = TD3(config.td3, obs_dim, action_dim)
        self.embed = Embedding(config.hidden, config.rep_dim)
        self.optimizer = optax.adam(config.lr)
        self.obs_dim, self.action_dim = obs_dim, action_dim
        self.batch_size = config.td3.batch_size

    def init(self, key: PRNGKey) -> RNDState:
        td3_key, pred_key, target_key = jax.random.split(key, 3)
        obs = jnp.zeros((1, self.obs_dim))
        predictor = self.embed.init(pred_key, obs)
        return RNDState(explorer=self.td3.init(td3_key), predictor=predictor,
                        target=self.embed.init(target_key, obs),
                        predictor_opt=self.optimizer.init(predictor),
                        obs_mean=jnp.zeros(self.obs_dim), obs_var=jnp.ones(self.obs_dim),
                        obs_count=jnp.zeros(()))

    def act(self, state: RNDState, obs: jax.Array, key: PRNGKey) -> jax.Array:
        action = self.td3.act(state.explorer.actor, obs)
        noise = self.config.expl_noise * jax.random.normal(key, action.shape)
        return jnp.clip(action + noise, -1.0, 1.0)

    def observe(self, state: RNDState, obs: jax.Array) -> RNDState:
        """Folds a block of observations into the running mean/variance (Chan et al.)."""
        n = obs.shape[0]
        mean, var = obs.mean(0), obs.var(0)
        total = state.obs_count + n
        delta = mean - state.obs_mean
        new_mean = state.obs_mean + delta * n / total
        m2 = state.obs_var * state.obs_count + var * n + delta ** 2 * state.obs_count * n / total
        return state.replace(obs_mean=new_mean, obs_var=m2 / total, obs_count=total)

    def novelty(self, predictor: Params, state: RNDState, obs: jax.Array) -> jax.Array:
        x = jnp.clip((obs - state.obs_mean) / jnp.sqrt(state.obs_var + 1e-8), -5.0, 5.0)
        target = jax.lax.stop_gradient(self.embed.apply(state.target, x))
        return jnp.sum((self.embed.apply(predictor, x) - target) ** 2, -1)

    def update(self, state: RNDState, batch: dict, key: PRNGKey) -> tuple[RNDState, Metrics]:
        def loss_fn(predictor):
            return self.novelty(predictor, state, batch["next_obs"]).mean()

        loss, grads = jax.value_and_grad(loss_fn)(state.predictor)
        updates, opt = self.optimizer.update(grads, state.predictor_opt, state.predictor)
        bonus = self.novelty(state.predictor, state, batch["next_obs"])
        reward = bonus / (bonus.std() + 1e-8)
        labelled = Labelled(obs=batch["obs"], action=batch["action"], next_obs=batch["next_obs"],
                            terminal=jnp.zeros_like(reward), reward=reward)
        explorer, metrics = self.td3.update(state.explorer, labelled, key)
        new_state = state.replace(explorer=explorer, predictor_opt=opt,
                                  predictor=optax.apply_updates(state.predictor, updates))
        return new_state, {**metrics, "rnd_loss": loss, "bonus_mean": bonus.mean()}

    def train_steps(self, state: RNDState, buffer: dict, size: jax.Array, key: PRNGKey,
                    num_updates: int | None = None) -> tuple[RNDState, Metrics]:
        """`num_updates` (default `updates_per_episode`) updates on batches from the first `size`
        rows of the buffer."""
        sample = uniform_sampler(buffer, self.batch_size, rows=size)
        return scan_updates(self.update, state, sample, key,
                            num_updates or self.config.updates_per_episode)
