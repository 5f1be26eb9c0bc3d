"""The FB losses as pure functions of arrays (SPEC section 3).

They take the already-computed matrices, so each one can be checked against a slow reference and
reused by any learner (tabular, continuous, sharded).
"""

import jax
import jax.numpy as jnp

from fbjax.nets import project_z
from fbjax.types import PRNGKey


def pessimistic_mean(values: jax.Array, coef: float) -> jax.Array:
    """mean_k values[k] - coef * mean_{k<l} |values[k] - values[l]| over the leading (member) axis.

    With two members and coef = 0.5 this is min(values[0], values[1]).
    """
    mean = values.mean(axis=0)
    k = values.shape[0]
    if k < 2 or coef == 0.0:
        return mean
    upper_k, upper_l = jnp.triu_indices(k, 1)
    spread = jnp.abs(values[upper_k] - values[upper_l]).mean(axis=0)
    return mean - coef * spread


def _off_diagonal_mean(x: jax.Array) -> jax.Array:
    """Mean over i != j of a (..., N, N) array's last two axes."""
    n = x.shape[-1]
    off = 1.0 - jnp.eye(n, dtype=x.dtype)
    return (x * off).sum(axis=(-2, -1)) / (n * (n - 1))


def fb_measure_loss(m: jax.Array, target: jax.Array, discount: jax.Array):
    """L_FB = sum_k [ 1/2 mean_{i!=j} (M_k - gamma_i T)[i,j]^2 - mean_i M_k[i,i] ].

    m: (K, N, N) with m[k, i, j] = F_k(s_i, a_i, z_i) . B(s'_j); target: (N, N), treated as a
    constant; discount: (N,) = gamma * (1 - terminal_i). Returns (loss, parts).
    """
    target = jax.lax.stop_gradient(target)
    diff = m - discount[None, :, None] * target[None]
    offdiag = 0.5 * _off_diagonal_mean(diff**2)
    diag = -jnp.diagonal(m, axis1=-2, axis2=-1).mean(axis=-1)
    loss = (offdiag + diag).sum()
    return loss, {"fb_offdiag": offdiag.sum(), "fb_diag": diag.sum()}


def orthonormality_loss(b: jax.Array):
    """L_ortho = 1/2 mean_{i!=j} C_ij^2 - mean_i C_ii with C = B B^T; b: (N, d)."""
    c = b @ b.T
    offdiag = 0.5 * _off_diagonal_mean(c**2)
    diag = -jnp.diagonal(c).mean()
    return offdiag + diag, {"ortho_offdiag": offdiag, "ortho_diag": diag}


def actor_loss(q: jax.Array, pessimism: float) -> jax.Array:
    """-mean_i pessimistic_mean_k(Q_k[i]); q: (K, N)."""
    return -pessimistic_mean(q, pessimism).mean()


def sample_z(key: PRNGKey, backward_next: jax.Array, z_dim: int, goal_ratio: float) -> jax.Array:
    """Training latents: proj(N(0, I)), each replaced with probability `goal_ratio` by the backward
    embedding of a batch next state drawn uniformly (no gradient through B).

    backward_next: (N, d), already projected B(s').

    The goal rows are index draws with replacement, one per latent, where SPEC section 3 permutes
    the batch: each latent's goal is the same uniform draw over the batch's B(s') either way, but
    a permutation is a sort, and with the mixing coin it took five random draws per update where
    this takes two (one Gaussian, one uniform). A row's index is floor(u N) of a float32 uniform u
    (a multiple of 2^-23): exactly uniform for batch sizes that are powers of two, within N / 2^23
    of it otherwise. Unlike a permutation, two latents may share a goal, and a latent may get its
    own row's s' (probability 1/N).
    """
    return sample_z_and_noise(key, backward_next, z_dim, goal_ratio, 0)[0]


def sample_z_and_noise(key: PRNGKey, backward_next: jax.Array, z_dim: int, goal_ratio: float,
                       noise_dim: int) -> tuple[jax.Array, jax.Array]:
    """`sample_z`'s latents (N, z_dim) and `noise_dim` more standard-normal columns (N, noise_dim)
    from the same Gaussian draw: the FB update takes its action noise from them, so that every
    Gaussian of an update is one random loop (on a CPU each loop is a dozen kernels). With
    noise_dim 0 the latents are `sample_z`'s, bit for bit."""
    n = backward_next.shape[0]
    gauss_key, uniform_key = jax.random.split(key)
    gauss = jax.random.normal(gauss_key, (n, z_dim + noise_dim))
    coin, pick = jax.random.uniform(uniform_key, (2, n))
    rows = jnp.minimum((pick * n).astype(jnp.int32), n - 1)
    goals = jax.lax.stop_gradient(backward_next[rows])
    z = jnp.where((coin < goal_ratio)[:, None], goals, project_z(gauss[:, :z_dim]))
    return z, gauss[:, z_dim:]
