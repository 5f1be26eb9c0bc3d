"""RND's running observation statistics against numpy on the concatenated blocks, and its bonus
normalisation."""

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.baselines import RND, RNDConfig, TD3Config


def _rnd():
    return RND(RNDConfig(rep_dim=4, hidden=8, td3=TD3Config(hidden=8, layers=1, batch_size=4)),
               3, 2)


def test_running_mean_and_variance_equal_numpy_over_all_blocks():
    rnd = _rnd()
    state = rnd.init(jax.random.PRNGKey(0))
    rng = np.random.default_rng(0)
    blocks = [rng.normal(loc=i, scale=1 + i, size=(n, 3)) for i, n in enumerate((5, 17, 2))]
    for block in blocks:
        state = rnd.observe(state, jnp.asarray(block, jnp.float32))
    everything = np.concatenate(blocks)
    np.testing.assert_allclose(state.obs_mean, everything.mean(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(state.obs_var, everything.var(0), rtol=1e-4, atol=1e-5)
    assert float(state.obs_count) == len(everything)


def test_novelty_is_zero_for_a_predictor_equal_to_the_target_and_clips_inputs():
    rnd = _rnd()
    state = rnd.init(jax.random.PRNGKey(1))
    obs = jnp.asarray(np.random.default_rng(1).normal(size=(6, 3)), jnp.float32)
    np.testing.assert_allclose(rnd.novelty(state.target, state, obs), 0.0, atol=1e-6)
    far = rnd.novelty(state.predictor, state, obs * 1e4)  # standardised inputs clip at +-5
    capped = rnd.novelty(state.predictor, state, jnp.sign(obs) * 5.0)
    np.testing.assert_allclose(far, capped, rtol=1e-5)
