"""The loss functions against slow per-element references written as plain loops."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fbjax.fb import losses

RTOL = 1e-5  # float32 accumulation over a few hundred terms


def _pessimistic_ref(values, coef):
    k = values.shape[0]
    out = np.mean(values, axis=0)
    if k > 1:
        pairs = list(itertools.combinations(range(k), 2))
        spread = sum(np.abs(values[a] - values[b]) for a, b in pairs) / len(pairs)
        out = out - coef * spread
    return out


@pytest.mark.parametrize("k", [1, 2, 3])
def test_pessimistic_mean_matches_pairwise_loop(k):
    values = np.random.default_rng(k).normal(size=(k, 7)).astype(np.float32)
    got = losses.pessimistic_mean(jnp.asarray(values), 0.5)
    np.testing.assert_allclose(got, _pessimistic_ref(values, 0.5), rtol=RTOL, atol=1e-6)


def test_pessimistic_mean_of_two_members_at_half_is_min():
    values = np.random.default_rng(0).normal(size=(2, 11)).astype(np.float32)
    np.testing.assert_allclose(losses.pessimistic_mean(jnp.asarray(values), 0.5),
                               values.min(axis=0), rtol=RTOL, atol=1e-6)


def test_fb_measure_loss_matches_loops():
    rng = np.random.default_rng(1)
    k, n = 2, 9
    m = rng.normal(size=(k, n, n)).astype(np.float32)
    target = rng.normal(size=(n, n)).astype(np.float32)
    discount = (0.9 * (rng.random(n) > 0.3)).astype(np.float32)  # some terminals
    loss, parts = losses.fb_measure_loss(jnp.asarray(m), jnp.asarray(target),
                                         jnp.asarray(discount))
    offdiag = diag = 0.0
    for kk in range(k):
        sq, count = 0.0, 0
        for i in range(n):
            for j in range(n):
                if i != j:
                    sq += (float(m[kk, i, j]) - float(discount[i]) * float(target[i, j])) ** 2
                    count += 1
        offdiag += 0.5 * sq / count
        diag += -sum(float(m[kk, i, i]) for i in range(n)) / n
    np.testing.assert_allclose(parts["fb_offdiag"], offdiag, rtol=RTOL)
    np.testing.assert_allclose(parts["fb_diag"], diag, rtol=RTOL)
    np.testing.assert_allclose(loss, offdiag + diag, rtol=RTOL)


def test_fb_measure_loss_does_not_differentiate_the_target():
    rng = np.random.default_rng(2)
    m, target = rng.normal(size=(2, 5, 5)), rng.normal(size=(5, 5))
    grad = jax.grad(lambda t: losses.fb_measure_loss(jnp.asarray(m), t, jnp.ones(5))[0])(
        jnp.asarray(target))
    assert np.all(np.asarray(grad) == 0.0)


def test_orthonormality_loss_matches_loops():
    b = np.random.default_rng(3).normal(size=(8, 4)).astype(np.float32)
    loss, parts = losses.orthonormality_loss(jnp.asarray(b))
    n = b.shape[0]
    c = [[float(np.dot(b[i], b[j])) for j in range(n)] for i in range(n)]
    off = 0.5 * sum(c[i][j] ** 2 for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    diag = -sum(c[i][i] for i in range(n)) / n
    np.testing.assert_allclose(parts["ortho_offdiag"], off, rtol=RTOL)
    np.testing.assert_allclose(parts["ortho_diag"], diag, rtol=RTOL)
    np.testing.assert_allclose(loss, off + diag, rtol=RTOL)


def test_actor_loss_is_minus_mean_of_min_for_two_members():
    q = np.random.default_rng(4).normal(size=(2, 6)).astype(np.float32)
    expected = -np.mean([min(q[0, i], q[1, i]) for i in range(6)])
    np.testing.assert_allclose(losses.actor_loss(jnp.asarray(q), 0.5), expected, rtol=RTOL)


def test_sample_z_gaussian_latents_lie_on_the_sphere():
    b = jnp.asarray(np.random.default_rng(5).normal(size=(16, 6)), jnp.float32)
    z = losses.sample_z(jax.random.PRNGKey(0), b, 6, goal_ratio=0.0)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), np.sqrt(6), rtol=1e-5)


def test_the_noise_drawn_with_the_latents_is_standard_normal_and_uncorrelated_with_them():
    """sample_z_and_noise's extra columns (the FB update's action noise) are N(0, 1), and are not
    the latents' own Gaussians: 4096 x 3 draws give a mean within 5 standard errors of 0
    (5 / sqrt(12288)), a standard deviation within 5 of its standard errors of 1 (5 / sqrt(2 x
    12288)), and each column's correlation with each latent coordinate within 5 / sqrt(4096)."""
    n = 4096
    b = jnp.zeros((n, 6), jnp.float32)
    z, noise = losses.sample_z_and_noise(jax.random.PRNGKey(3), b, 6, 0.0, 3)
    z, noise = np.asarray(z), np.asarray(noise)
    assert noise.shape == (n, 3)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), np.sqrt(6), rtol=1e-5)
    assert abs(noise.mean()) < 5 / np.sqrt(noise.size)
    assert abs(noise.std() - 1.0) < 5 / np.sqrt(2 * noise.size)
    corr = np.corrcoef(np.concatenate([z, noise], axis=1).T)[:6, 6:]
    assert np.abs(corr).max() < 5 / np.sqrt(n)


def test_sample_z_goal_latents_are_rows_of_the_backward_embeddings_drawn_uniformly():
    # Distinct rows, so each goal latent names the row it was drawn from.
    n, draws = 6, 3000
    b = np.random.default_rng(6).normal(size=(n, 4)).astype(np.float32)
    keys = jax.random.split(jax.random.PRNGKey(0), draws)
    z = np.asarray(jax.vmap(lambda k: losses.sample_z(k, jnp.asarray(b), 4, 1.0))(keys))
    hit = np.all(np.isclose(z[:, :, None, :], b[None, None], atol=1e-6), axis=-1)  # (draws, n, n)
    assert np.all(hit.sum(-1) == 1)  # every goal latent is exactly one row of B
    rows = hit.argmax(-1)
    # Each latent's row is uniform over the batch, independently of its own position: counts per
    # (latent, row) cell are Binomial(3000, 1/6), sd 20.4; 5 sd over 36 cells.
    counts = np.stack([np.bincount(rows[:, i], minlength=n) for i in range(n)])
    expected = draws / n
    assert np.abs(counts - expected).max() < 5 * np.sqrt(draws * (1 / n) * (1 - 1 / n))


def test_sample_z_mixes_at_the_goal_ratio():
    b = jnp.asarray(np.random.default_rng(7).normal(size=(4000, 3)) * 5.0, jnp.float32)
    z = np.asarray(losses.sample_z(jax.random.PRNGKey(1), b, 3, goal_ratio=0.3))
    gaussian = np.isclose(np.linalg.norm(z, axis=1), np.sqrt(3), rtol=1e-4)
    # B rows have norm ~ 5 sqrt(3) here, so they are told apart by their norm; 4000 Bernoulli(0.3)
    # draws have standard deviation 0.0072: 5 sigma.
    assert abs((1 - gaussian.mean()) - 0.3) < 5 * np.sqrt(0.3 * 0.7 / 4000)
