"""Fitted Q evaluation (Le et al., 2019): the standard off-policy evaluation baseline.

For a fixed policy pi, regress Q(s, a) on r(s') + gamma Q_target(s', pi(s')) over the dataset's
transitions; the policy's discounted return from rho0 is then E_{s0 ~ rho0}[Q(s0, pi(s0))]. The
policy enters only through its actions at the dataset's next states, so FQE needs no access to the
policy's networks: the batch carries `next_action` = pi(s'). Q has one output per reward, so one
FQE run evaluates a policy on every task of a domain at once; `fbjax.agent.Vmapped` with
per_copy=("next_action",) evaluates many policies in one program.

`FQE.update(state, batch, key)` follows `fbjax.agent.Agent`; batch: a `fbjax.types.Labelled` with
obs, action, reward (R,), next_obs, next_action, terminal.
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct

from fbjax.nets import MLP, dense
from fbjax.types import Labelled, Metrics, Params, PRNGKey


@dataclasses.dataclass(frozen=True)
class FQEConfig:
    hidden: int = 256
    layers: int = 2
    lr: float = 3e-4
    discount: float = 0.99
    tau: float = 0.005
    batch_size: int = 256

    def __post_init__(self):
        for name in ("hidden", "layers", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"FQEConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"FQEConfig.lr must be > 0, got {self.lr}")
        if not 0.0 < self.discount < 1.0:
            raise ValueError(f"FQEConfig.discount must be in (0, 1), got {self.discount}")


class QNetwork(nn.Module):
    hidden: int
    layers: int
    num_rewards: int

    @nn.compact
    def __call__(self, obs, action):
        x = jnp.concatenate([obs, action], axis=-1)
        return dense(self.num_rewards)(MLP((self.hidden,) * self.layers)(x))


@struct.dataclass
class FQEState:
    params: Params
    target: Params
    opt_state: optax.OptState
    step: jax.Array


class FQE:
    def __init__(self, config: FQEConfig, obs_dim: int, action_dim: int, num_rewards: int):
        self.config, self.batch_size = config, config.batch_size
        self.obs_dim, self.action_dim = obs_dim, action_dim
        self.q = QNetwork(config.hidden, config.layers, num_rewards)
        self.opt = optax.adam(config.lr)

    def init(self, key: PRNGKey) -> FQEState:
        params = self.q.init(key, jnp.zeros((1, self.obs_dim)), jnp.zeros((1, self.action_dim)))
        return FQEState(params, params, self.opt.init(params), jnp.zeros((), jnp.int32))

    def update(self, state: FQEState, batch: Labelled, key: PRNGKey) -> tuple[FQEState, Metrics]:
        del key
        c = self.config
        next_q = self.q.apply(state.target, batch.next_obs, batch.next_action)
        keep = (1.0 - batch.terminal)[:, None]
        target = jax.lax.stop_gradient(batch.reward + c.discount * keep * next_q)

        def loss_fn(params):
            q = self.q.apply(params, batch.obs, batch.action)
            return jnp.mean((q - target) ** 2), q.mean()

        (loss, q_mean), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        updates, opt_state = self.opt.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        target_params = optax.incremental_update(params, state.target, c.tau)
        return (FQEState(params, target_params, opt_state, state.step + 1),
                {"fqe_loss": loss, "q_mean": q_mean})

    def value(self, params: Params, start_obs: jax.Array, start_action: jax.Array) -> jax.Array:
        """E_{s0}[Q(s0, pi(s0))] per reward: (R,)."""
        return self.q.apply(params, start_obs, start_action).mean(axis=0)
