"""The OPE validation study's pieces on data with known answers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fbjax.eval.ope_study import (
    PoolConfig,
    estimates,
    noise_ceiling,
    perturb,
    policy_pool,
    rank_metrics,
    total_variation,
)
from fbjax.eval.zero_shot import InferenceData
from fbjax.zol import ZOLConfig, density_ratio, positive_ratio
from tests.helpers import OBS_DIM, continuous_agent


def test_rank_metrics_on_known_rankings():
    true = np.array([1.0, 2.0, 3.0, 4.0])
    perfect = rank_metrics(2 * true + 5, true)
    assert perfect["spearman"] == pytest.approx(1.0) and perfect["regret"] == 0.0
    assert perfect["calibration_slope"] == pytest.approx(0.5)  # true = (estimate - 5) / 2
    reversed_ = rank_metrics(-true, true)
    assert reversed_["spearman"] == pytest.approx(-1.0)
    assert reversed_["regret"] == 3.0 and reversed_["regret_frac"] == 1.0
    flat = rank_metrics(np.ones(4), true)
    assert np.isnan(flat["spearman"]) and np.isnan(flat["calibration_slope"])


def test_perturb_rotates_by_the_given_angle_on_the_sphere():
    z = jnp.asarray(np.random.default_rng(0).normal(size=16), jnp.float32)
    for degrees in (5.0, 15.0, 30.0):
        p = perturb(z, degrees, jax.random.PRNGKey(1))
        cos = float(p @ z / (jnp.linalg.norm(p) * jnp.linalg.norm(z)))
        assert cos == pytest.approx(np.cos(np.deg2rad(degrees)), abs=1e-5)
        assert float(jnp.linalg.norm(p)) == pytest.approx(4.0, rel=1e-5)  # sqrt(16)


def test_total_variation():
    assert total_variation(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))[0] == 1.0
    assert total_variation(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0


@pytest.fixture(scope="module")
def model():
    agent = continuous_agent()
    params = agent.init(jax.random.PRNGKey(0)).params
    rng = np.random.default_rng(1)
    data = InferenceData(start_obs=jnp.asarray(rng.normal(size=(8, OBS_DIM)), jnp.float32),
                         next_obs=jnp.asarray(rng.normal(size=(50, OBS_DIM)), jnp.float32),
                         rewards=jnp.asarray(rng.normal(size=(3, 50)), jnp.float32),
                         data_obs=jnp.asarray(rng.normal(size=(8, OBS_DIM)), jnp.float32))
    return agent, params, data


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_pool_has_every_stratum_and_its_size(model):
    agent, params, data = model
    config = PoolConfig(num_random=4, mixture_weights=(0.5,), num_goals=3, angles=(5.0,),
                        directions=2)
    zs, strata, labels = policy_pool(agent, params, data, [ZOLConfig(steps=2)], config,
                                     jax.random.PRNGKey(0))
    counts = {s: strata.count(s) for s in dict.fromkeys(strata)}
    assert counts == {"task": 3, "random": 4, "mixture": 3, "goal": 3, "perturbed": 6, "zol": 3}
    assert zs.shape == (22, agent.config.z_dim) and len(labels) == 22
    np.testing.assert_allclose(np.linalg.norm(zs, axis=1), np.sqrt(agent.config.z_dim),
                               rtol=1e-5)


def test_estimates_match_one_policy_at_a_time_and_raw_equals_fb_value(model):
    agent, params, data = model
    zs = jnp.asarray(np.random.default_rng(2).normal(size=(3, agent.config.z_dim)), jnp.float32)
    positions = jnp.arange(50) % 5
    est = estimates(agent, params, data, zs, positions, 5)
    gamma = agent.config.discount
    np.testing.assert_allclose(est["raw"], est["fb_value"], rtol=1e-4, atol=1e-5)
    for p in range(3):
        linear = density_ratio(agent.networks, params, data.start_obs, data.next_obs, zs[p],
                               gamma)
        w = positive_ratio(linear, "exp", 2.0, 50.0)
        want = np.asarray(data.rewards @ w / 50 / (1 - gamma))
        np.testing.assert_allclose(est["exp_b2_clip50"][p], want, rtol=1e-5, atol=1e-6)
        hist = np.bincount(np.asarray(positions), weights=np.asarray(w), minlength=5)
        np.testing.assert_allclose(est["hist/exp_b2_clip50"][p], hist / hist.sum(), rtol=1e-5)
        np.testing.assert_allclose(est["hist/uniform"][p], 0.2, rtol=1e-6)


def test_noise_ceiling_from_split_halves():
    """Policies whose true returns differ far more than their episodes do have reliability near 1;
    returns that are pure episode noise have a split-half near 0 and a low ceiling; a reward every
    policy scores identically has no ranking to measure (NaN)."""
    rng = np.random.default_rng(0)
    policies, episodes = 200, 20
    clean = np.linspace(0, 10, policies)[:, None] + rng.normal(0, 0.1, (policies, episodes))
    noise = rng.normal(0, 1, (policies, episodes))
    flat = np.zeros((policies, episodes))
    out = noise_ceiling(np.stack([clean, noise, flat], -1))
    assert out["reliability"][0] > 0.99 and out["ceiling"][0] > 0.99
    # Pure noise: the halves' ranks are independent, split-half ~ N(0, 1/sqrt(199)) = +-0.07;
    # 0.25 is 3.5 sd.
    assert abs(out["split_half"][1]) < 0.25 and out["ceiling"][1] < 0.65
    assert np.isnan(out["split_half"][2]) and np.isnan(out["ceiling"][2])
    # Spearman-Brown: reliability = 2r / (1 + r) of the split-half r.
    r = out["split_half"][0]
    assert out["reliability"][0] == pytest.approx(2 * r / (1 + r))
    with pytest.raises(ValueError, match="episodes >= 2"):
        noise_ceiling(np.zeros((3, 1, 2)))
