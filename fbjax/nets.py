"""Small linen building blocks shared by the FB networks."""

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

_KERNEL_INIT = nn.initializers.orthogonal()


def dense(features: int, dtype: Any = None) -> nn.Dense:
    """A Linear layer with the house initialisation: orthogonal weights, zero bias. `dtype`
    (e.g. bfloat16) is the computation's; parameters stay float32."""
    return nn.Dense(features, kernel_init=_KERNEL_INIT, bias_init=nn.initializers.zeros,
                    dtype=dtype)


def full_precision(x: jax.Array, dtype: Any) -> jax.Array:
    """A network's output back in float32 when its matmuls ran in a lower `dtype`; untouched
    otherwise (so a float64 computation stays float64)."""
    return x if dtype is None else x.astype(jnp.float32)


def project_z(x: jax.Array) -> jax.Array:
    """Projects onto the sphere of radius sqrt(d) (d = last axis size); 0 maps to 0.

    The norm is taken so that its gradient at x = 0 is 0, not NaN (0/0): a goal space can send
    an input to a zero embedding, e.g. every state a coordinate projection drops."""
    d = x.shape[-1]
    squared = jnp.sum(x * x, axis=-1, keepdims=True)
    positive = squared > 0
    norm = jnp.where(positive, jnp.sqrt(jnp.where(positive, squared, 1.0)), 0.0)
    return jnp.sqrt(d) * x / jnp.maximum(norm, 1e-12)


class MLP(nn.Module):
    """[Linear -> ReLU] per hidden size; no output layer."""

    hidden: Sequence[int]
    dtype: Any = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for h in self.hidden:
            x = nn.relu(dense(h, self.dtype)(x))
        return x


class Tower(nn.Module):
    """Input tower: Linear(h) -> LayerNorm -> tanh -> Linear(h/2) -> ReLU. The LayerNorm works
    in float32 whatever the matmuls' dtype."""

    hidden: int
    dtype: Any = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = jnp.tanh(nn.LayerNorm()(dense(self.hidden, self.dtype)(x)))
        return nn.relu(dense(self.hidden // 2, self.dtype)(x))


class TwoTowerBody(nn.Module):
    """Two towers on two inputs, concatenated (size h), then `layers` x [Linear(h) -> ReLU]."""

    hidden: int
    layers: int
    dtype: Any = None

    @nn.compact
    def __call__(self, first: jax.Array, second: jax.Array) -> jax.Array:
        x = jnp.concatenate([Tower(self.hidden, self.dtype)(first),
                             Tower(self.hidden, self.dtype)(second)], axis=-1)
        return MLP((self.hidden,) * self.layers, self.dtype)(x)


def ensemble(module_cls: type[nn.Module], size: int) -> type[nn.Module]:
    """Lifts a module to `size` independent members: parameters stacked on a leading axis,
    inputs shared, outputs stacked on a leading axis of length `size`."""
    return nn.vmap(
        module_cls,
        variable_axes={"params": 0},
        split_rngs={"params": True},
        in_axes=None,
        out_axes=0,
        axis_size=size,
    )
