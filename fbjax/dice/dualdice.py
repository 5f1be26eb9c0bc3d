"""A DualDICE-style estimator (Nachum et al., 2019) of one fixed policy's density ratio, the
baseline that shows what the FB ratio saves: it needs a min-max optimisation per policy.

For discrete actions. nu(s, .) and zeta(s, .) output one value per action: linear maps of the
observation when `hidden` is empty (tables, for one-hot states), MLPs otherwise. The saddle point of

    L(nu, zeta) = E_D[(nu(s, a) - gamma (1 - term) E_{a'~pi(s')} nu(s', a')) zeta(s, a)
                      - zeta(s, a)^2 / 2]
                  - (1 - gamma) E_{s0~rho0, a0~pi}[nu(s0, a0)]   (min over nu, max over zeta)

has zeta(s, a) = d^pi(s, a) / d^D(s, a) (state-action occupancy counted from t = 0). The next-state
ratio of SPEC section 5 follows from it: d^pi(s') / rho(s') = E_D[zeta(s, a) | s'].
"""

import dataclasses
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import optax

from fbjax.agent import sample_batch, scan_updates
from fbjax.nets import MLP, dense
from fbjax.types import PRNGKey, Transition


@dataclasses.dataclass(frozen=True)
class DualDICEConfig:
    hidden: Sequence[int] = ()
    lr: float = 1e-2
    steps: int = 5000
    batch_size: int = 512
    discount: float = 0.9
    cosine_decay: bool = True  # anneal lr to 0 over `steps`: minibatch GDA then settles


class _ActionValues(nn.Module):
    num_actions: int
    hidden: Sequence[int]

    @nn.compact
    def __call__(self, obs):
        return dense(self.num_actions)(MLP(tuple(self.hidden))(obs))


@flax.struct.dataclass
class NuZeta:
    """One thing per network of the saddle point: nu (minimised) and zeta (maximised)."""

    nu: Any
    zeta: Any


@flax.struct.dataclass
class DualDICEState:
    params: NuZeta  # of Params
    opt_state: NuZeta  # of optax.OptState


@flax.struct.dataclass
class DiceBatch:
    """What one update sees: sampled transitions, pi(. | s') at their next states, and every
    start state with pi(. | s0)."""

    transition: Transition
    next_probs: jax.Array
    start_obs: jax.Array
    start_probs: jax.Array


class DualDICE:
    """target_probs(obs) -> (N, |A|): the fixed target policy."""

    def __init__(self, config: DualDICEConfig, obs_dim: int, num_actions: int):
        self.config, self.obs_dim, self.num_actions = config, obs_dim, num_actions
        self.module = _ActionValues(num_actions, tuple(config.hidden))
        lr = (optax.cosine_decay_schedule(config.lr, config.steps) if config.cosine_decay
              else config.lr)
        self.optimizer = optax.adam(lr)
        self.batch_size = config.batch_size

    def init(self, key: PRNGKey) -> DualDICEState:
        obs = jnp.zeros((1, self.obs_dim))
        nu_key, zeta_key = jax.random.split(key)
        params = NuZeta(*(self.module.init(k, obs)["params"] for k in (nu_key, zeta_key)))
        return DualDICEState(params, NuZeta(self.optimizer.init(params.nu),
                                            self.optimizer.init(params.zeta)))

    def _values(self, params, obs):
        return self.module.apply({"params": params}, obs)

    def loss(self, params: NuZeta, batch: Transition, next_probs, start_obs, start_probs):
        """L(nu, zeta) on a batch; next_probs = pi(. | s'), start_probs = pi(. | s0)."""
        gamma = self.config.discount
        take = jax.vmap(lambda v, a: v[a])
        nu = take(self._values(params.nu, batch.obs), batch.action)
        zeta = take(self._values(params.zeta, batch.obs), batch.action)
        nu_next = jnp.sum(self._values(params.nu, batch.next_obs) * next_probs, axis=-1)
        nu_start = jnp.sum(self._values(params.nu, start_obs) * start_probs, axis=-1)
        residual = nu - gamma * (1.0 - batch.terminal) * nu_next
        return jnp.mean(residual * zeta - 0.5 * zeta**2) - (1.0 - gamma) * jnp.mean(nu_start)

    def update(self, state: DualDICEState, batch: DiceBatch, key: PRNGKey):
        """One simultaneous Adam step (the `fbjax.agent.Agent` protocol): descent for nu, ascent
        for zeta. The step is deterministic given the batch; `key` is unused."""
        del key
        value, grads = jax.value_and_grad(self.loss)(
            state.params, batch.transition, batch.next_probs, batch.start_obs, batch.start_probs)
        nu, nu_opt = self._step(grads.nu, state.opt_state.nu, state.params.nu)
        zeta, zeta_opt = self._step(jax.tree.map(jnp.negative, grads.zeta), state.opt_state.zeta,
                                    state.params.zeta)
        return DualDICEState(NuZeta(nu, zeta), NuZeta(nu_opt, zeta_opt)), {"loss": value}

    def _step(self, grads, opt_state, params):
        """(new params, new optimiser state) of one network."""
        updates, opt_state = self.optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    def train(self, state: DualDICEState, dataset: Transition, target_probs, start_obs,
              key: PRNGKey) -> tuple[DualDICEState, dict]:
        """`config.steps` updates on minibatches of `dataset` (all of `start_obs`, samples of
        rho0, in every batch); returns the state and the mean metrics."""
        start_probs = target_probs(start_obs)

        def sample(batch_key):
            transition = sample_batch(dataset, batch_key, self.batch_size)
            return DiceBatch(transition, target_probs(transition.next_obs), start_obs,
                             start_probs)

        return scan_updates(self.update, state, sample, key, self.config.steps)

    def state_action_ratio(self, state: DualDICEState, obs, action) -> jax.Array:
        """zeta(s, a) ~ d^pi(s, a) / d^D(s, a)."""
        values = self._values(state.params.zeta, obs)
        return jnp.take_along_axis(values, action[:, None], axis=1)[:, 0]
