"""Small linen building blocks shared by the FB networks."""

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

_KERNEL_INIT = nn.initializers.orthogonal()


def dense(features: int, dtype: Any = None, name: str | None = None) -> nn.Dense:
    """A Linear layer with the house initialisation: orthogonal weights, zero bias. `dtype`
    (e.g. bfloat16) is the computation's; parameters stay float32."""
    return nn.Dense(features, kernel_init=_KERNEL_INIT, bias_init=nn.initializers.zeros,
                    dtype=dtype, name=name)


class BiasInMatmul(nn.Module):
    """A Linear layer whose bias rides in its matmul: [x, 1] @ [[W], [b]]. The parameters are
    nn.Dense's (`kernel` (in, out), orthogonal; `bias` (out,), zero) and a module of this kind
    named like the Dense it replaces initialises and restores the same arrays.

    For a layer whose input is narrow and whose output is read by more than one pass (the first
    layer of a tower, read by LayerNorm's statistics and its normalisation), this saves the
    separate pass that adds the bias to the matmul's output (and, in the gradient, the pass
    that sums the output's gradient over the batch for the bias): the ones column and the bias
    row cost one more input column of FLOPs, 2 x out per row where the addition cost 1."""

    features: int
    dtype: Any = None

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kernel = self.param("kernel", _KERNEL_INIT, (x.shape[-1], self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        weights = jnp.concatenate([kernel, bias[None]], axis=0)
        x = jnp.concatenate([x, jnp.ones((*x.shape[:-1], 1), x.dtype)], axis=-1)
        if self.dtype is not None:
            x, weights = x.astype(self.dtype), weights.astype(self.dtype)
        return x @ weights


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
        x = jnp.tanh(nn.LayerNorm()(BiasInMatmul(self.hidden, self.dtype, name="Dense_0")(x)))
        return nn.relu(dense(self.hidden // 2, self.dtype, name="Dense_1")(x))


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
    inputs and outputs on a leading axis of length `size` (see `members`)."""
    return nn.vmap(
        module_cls,
        variable_axes={"params": 0},
        split_rngs={"params": True},
        in_axes=0,
        out_axes=0,
        axis_size=size,
    )


def members(size: int, *inputs):
    """Shared inputs for an `ensemble` of `size`: each broadcast on a new leading axis (None stays
    None). Every member's matmul is then one batched product whose result is laid out member-major
    as the next layer reads it; with the members' input unbatched, XLA computed the first layer as
    one (N, K x h) product and copied it into member-major order, once per layer in each pass."""
    return tuple(None if x is None else jnp.broadcast_to(x, (size, *x.shape)) for x in inputs)
