"""The three FB networks (SPEC section 2) as linen modules, and their static bundle."""

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from fbjax.fb.config import FBConfig
from fbjax.nets import MLP, TwoTowerBody, dense, ensemble, full_precision, members, project_z
from fbjax.types import Params, PRNGKey


class BackwardMap(nn.Module):
    """B(s'): Linear -> LayerNorm -> tanh, (layers-1) x [Linear -> ReLU], Linear -> proj."""

    z_dim: int
    hidden: int
    layers: int
    dtype: Any = None  # the matmuls' (None: float32); outputs are float32 either way

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        x = jnp.tanh(nn.LayerNorm()(dense(self.hidden, self.dtype)(obs)))
        x = MLP((self.hidden,) * (self.layers - 1), self.dtype)(x)
        return project_z(full_precision(dense(self.z_dim, self.dtype)(x), self.dtype))


class ForwardMember(nn.Module):
    """One member of F. Continuous: F(s, a, z) in R^d from towers on [s, a] and [s, z].
    Discrete (num_actions set): F(s, ., z) in R^{|A| x d} from towers on [s] and [s, z]."""

    z_dim: int
    hidden: int
    layers: int
    num_actions: int | None = None
    dtype: Any = None

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array | None, z: jax.Array) -> jax.Array:
        first = obs if self.num_actions else jnp.concatenate([obs, action], axis=-1)
        x = TwoTowerBody(self.hidden, self.layers, self.dtype)(
            first, jnp.concatenate([obs, z], axis=-1))
        if not self.num_actions:
            return full_precision(dense(self.z_dim, self.dtype)(x), self.dtype)
        out = full_precision(dense(self.z_dim * self.num_actions, self.dtype)(x), self.dtype)
        return out.reshape(*out.shape[:-1], self.num_actions, self.z_dim)


class Actor(nn.Module):
    """mu(s, z) = tanh(Linear(body([s, z], [s])))."""

    action_dim: int
    hidden: int
    layers: int
    dtype: Any = None

    @nn.compact
    def __call__(self, obs: jax.Array, z: jax.Array) -> jax.Array:
        x = TwoTowerBody(self.hidden, self.layers, self.dtype)(
            jnp.concatenate([obs, z], axis=-1), obs)
        return jnp.tanh(full_precision(dense(self.action_dim, self.dtype)(x), self.dtype))



@jax.tree_util.register_pytree_with_keys_class
@dataclasses.dataclass(frozen=True, kw_only=True)
class FBParams:
    """One thing per network of an FB agent: its parameters, and likewise its target parameters
    (no actor), optimiser states and optimisers. `actor` is None for discrete actions (the policy
    is greedy in F) and where no actor is trained.

    As a pytree, a None network is absent (not a None child) and the networks come in name order:
    the tree has the keys and leaf order the {"forward", "backward"[, "actor"]} dicts of earlier
    versions had, so their checkpoints restore into it and digests are unchanged."""

    actor: Any = None
    backward: Any
    forward: Any

    def replace(self, **networks) -> "FBParams":
        return dataclasses.replace(self, **networks)

    def tree_flatten_with_keys(self):
        names = tuple(n for n in ("actor", "backward", "forward") if getattr(self, n) is not None)
        return [(jax.tree_util.GetAttrKey(n), getattr(self, n)) for n in names], names

    def tree_flatten(self):
        children, names = self.tree_flatten_with_keys()
        return [child for _, child in children], names

    @classmethod
    def tree_unflatten(cls, names, children) -> "FBParams":
        return cls(**dict(zip(names, children, strict=True)))


@dataclasses.dataclass(frozen=True)
class FBNetworks:
    """Static modules of one FB agent. `num_actions` set means discrete actions (no actor)."""

    config: FBConfig
    obs_dim: int
    action_dim: int
    num_actions: int | None = None

    def __post_init__(self):
        bad = [i for i in self.config.goal_indices if i >= self.obs_dim]
        if bad:
            raise ValueError(f"FBConfig.goal_indices {list(self.config.goal_indices)}: "
                             f"{bad} out of range for observations of {self.obs_dim} "
                             f"coordinates (expected indices in 0..{self.obs_dim - 1})")

    @property
    def goal_dim(self) -> int:
        """The width of B's input: the goal space's, or the observation's."""
        return len(self.config.goal_indices) or self.obs_dim

    def goal(self, obs: jax.Array) -> jax.Array:
        """The goal-space projection g(s) of observations (..., obs_dim) -> (..., goal_dim).

        With a goal space, B and everything read through it (goal latents in training, goal
        prompts, reward inference, the free ratio) live on g(S): the successor measure FB learns
        is that of g(s_{t+1}), and w_z(s') = (1 - gamma) W_z . B(g(s')) estimates the ratio of
        the pushed-forward measures d^{pi_z}_g(g(s')) / rho_g(g(s')) (states that g merges share
        one ratio)."""
        idx = self.config.goal_indices
        return jnp.take(obs, jnp.asarray(idx), axis=-1) if idx else obs

    @property
    def discrete(self) -> bool:
        return self.num_actions is not None

    @property
    def dtype(self):
        """The matmuls' dtype: None (float32, the reference) or bfloat16."""
        return None if self.config.compute_dtype == "float32" else jnp.bfloat16

    @property
    def backward_module(self) -> BackwardMap:
        c = self.config
        return BackwardMap(c.z_dim, c.backward_hidden, c.backward_layers, self.dtype)

    @property
    def forward_module(self) -> nn.Module:
        c = self.config
        member = ensemble(ForwardMember, c.ensemble_size)
        return member(c.z_dim, c.forward_hidden, c.forward_layers, self.num_actions, self.dtype)

    @property
    def actor_module(self) -> Actor:
        c = self.config
        return Actor(self.action_dim, c.actor_hidden, c.actor_layers, self.dtype)

    def init(self, key: PRNGKey) -> "FBParams":
        """Parameters of F, B and (continuous actions) the actor, for unbatched dummy inputs."""
        f_key, b_key, a_key = jax.random.split(key, 3)
        obs = jnp.zeros((1, self.obs_dim))
        z = jnp.zeros((1, self.config.z_dim))
        action = None if self.discrete else jnp.zeros((1, self.action_dim))
        actor = None if self.discrete else self.actor_module.init(a_key, obs, z)["params"]
        shared = members(self.config.ensemble_size, obs, action, z)
        return FBParams(forward=self.forward_module.init(f_key, *shared)["params"],
                        backward=self.backward_module.init(b_key, self.goal(obs))["params"],
                        actor=actor)

    def backward(self, params: Params, obs: jax.Array) -> jax.Array:
        """B(g(s)) of observations (..., obs_dim)."""
        return self.backward_goal(params, self.goal(obs))

    def backward_goal(self, params: Params, goal: jax.Array) -> jax.Array:
        """B of points of the goal space (..., goal_dim)."""
        return self.backward_module.apply({"params": params}, goal)

    def forward(self, params: Params, obs: jax.Array, action, z: jax.Array) -> jax.Array:
        """Shape (K, ..., d) for continuous actions, (K, ..., |A|, d) for discrete ones."""
        return self.forward_module.apply({"params": params},
                                         *members(self.config.ensemble_size, obs, action, z))

    def actor_mean(self, params: Params, obs: jax.Array, z: jax.Array) -> jax.Array:
        return self.actor_module.apply({"params": params}, obs, z)

    def sample_action(self, params: Params, obs, z, key: PRNGKey | None = None, *,
                      noise: jax.Array | None = None) -> jax.Array:
        """a = clip(mu + clip(sigma * eps, -c, c), -1 + 1e-6, 1 - 1e-6), with a straight-through
        outer clip so the reparameterised gradient reaches mu even at the bounds. eps ~ N(0, I)
        is `noise` where given (mu's shape), else drawn from `key`."""
        mu = self.actor_mean(params, obs, z)
        c = self.config
        eps = jax.random.normal(key, mu.shape) if noise is None else noise
        noise = jnp.clip(c.actor_noise * eps, -c.noise_clip, c.noise_clip)
        raw = mu + noise
        clipped = jnp.clip(raw, -1.0 + 1e-6, 1.0 - 1e-6)
        return raw + jax.lax.stop_gradient(clipped - raw)
