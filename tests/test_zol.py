"""The free density ratio, OPE and ZOL search: exact identities and batched-vs-single checks."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fbjax import tabular
from fbjax.fb import goal_inference
from fbjax.fb.networks import FBParams
from fbjax.types import Transition
from fbjax.zol import (
    ZOLConfig,
    density_ratio,
    fb_value_estimate,
    positive_ratio,
    ratio_estimate,
    ratio_weighted_regression,
    sample_start_states,
    start_sets,
    zol_grid,
    zol_objective,
    zol_search,
)
from tests.helpers import OBS_DIM, TINY, continuous_agent

GAMMA = 0.9


@dataclasses.dataclass(frozen=True)
class TableFB:
    """F and B given as exact tables over one-hot states, behind the FBNetworks interface."""

    f_table: np.ndarray  # (S, A, d)
    b_table: np.ndarray  # (S, d)

    discrete = True

    @property
    def config(self):  # actor_pessimism only matters for K > 1; here K = 1
        return dataclasses.replace(TINY, z_dim=self.b_table.shape[1])

    @property
    def obs_dim(self):
        return self.b_table.shape[0]

    @property
    def num_actions(self):
        return self.f_table.shape[1]

    def forward(self, params, obs, action, z):
        return jnp.einsum("ns,sad->nad", obs, self.f_table)[None]

    def backward(self, params, obs):
        return obs @ self.b_table


def _exact_factorisation(mdp, policy, rho):
    """F(s, a) . B(s') = M^pi(s, a, s') / rho(s') from an SVD, d = |S|."""
    m = tabular.successor_measure(mdp.transitions, policy, GAMMA)
    s, a = mdp.num_states, mdp.num_actions
    u, sigma, vt = np.linalg.svd((m / rho).reshape(s * a, s), full_matrices=False)
    return TableFB((u * sigma).reshape(s, a, s), vt.T)


@pytest.fixture(scope="module")
def exact_setup():
    """A random MDP, the optimal policy of a random reward, and z with F(s, a) . z = Q(s, a)."""
    mdp = tabular.random_mdp(8, 3, seed=3)
    rng = np.random.default_rng(4)
    reward = rng.normal(size=8)
    rho = rng.dirichlet(np.ones(8))
    q = np.zeros((8, 3))
    for _ in range(2000):
        q = mdp.transitions @ (reward + GAMMA * q.max(1))
    policy = tabular.greedy_policy(q)
    fb = _exact_factorisation(mdp, policy, rho)
    z = fb.b_table.T @ (rho * reward)  # F . z = M r = Q
    return mdp, policy, rho, reward, fb, z


def test_ratio_of_an_exact_factorisation_is_the_exact_density_ratio(exact_setup):
    mdp, policy, rho, _, fb, z = exact_setup
    exact = tabular.density_ratio(tabular.occupancy(mdp.transitions, policy, mdp.initial, GAMMA),
                                  rho)
    states = np.eye(8)
    with jax.enable_x64(True):
        w = density_ratio(fb, FBParams(forward=None, backward=None), jnp.asarray(states),
                          jnp.asarray(states), jnp.asarray(z), GAMMA,
                          start_weights=jnp.asarray(mdp.initial))
        np.testing.assert_allclose(np.asarray(w), exact, atol=1e-5, rtol=0)


def test_ratio_estimate_of_an_exact_factorisation_is_the_exact_return(exact_setup):
    mdp, policy, rho, reward, fb, z = exact_setup
    states = np.eye(8)
    with jax.enable_x64(True):
        w = density_ratio(fb, FBParams(forward=None, backward=None), jnp.asarray(states),
                          jnp.asarray(states), jnp.asarray(z), GAMMA,
                          start_weights=jnp.asarray(mdp.initial))
        # E_rho[w r] over the 8 states with probabilities rho:
        estimate = float(ratio_estimate(w * rho * 8, jnp.asarray(reward), GAMMA))
    exact = tabular.discounted_return(mdp.transitions, policy, mdp.initial, reward, GAMMA)
    np.testing.assert_allclose(estimate, exact, rtol=1e-6)


@pytest.mark.parametrize("transform", ["linear", "softplus", "exp"])
def test_positive_ratio_transforms_match_numpy(transform):
    linear = np.random.default_rng(5).normal(size=200).astype(np.float32) * 3
    beta, clip = 2.0, 4.0
    if transform == "linear":
        w = np.maximum(linear, 0)
    elif transform == "softplus":
        w = np.log1p(np.exp(linear))
    else:
        w = np.exp(beta * linear - np.max(beta * linear))
    w = w / w.mean()
    w = np.minimum(w, clip)
    w = w / w.mean()
    got = positive_ratio(jnp.asarray(linear), transform, beta=beta, clip=clip)
    np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-6)
    assert np.isclose(float(got.mean()), 1.0, atol=1e-5)


def test_positive_ratio_edge_cases():
    np.testing.assert_allclose(positive_ratio(-jnp.ones(5), "linear"), np.ones(5))
    with pytest.raises(ValueError, match="unknown transform 'relu'"):
        positive_ratio(jnp.ones(3), "relu")


@pytest.fixture(scope="module")
def tiny_model():
    agent = continuous_agent()
    params = agent.init(jax.random.PRNGKey(0)).params
    rng = np.random.default_rng(6)
    start_obs = jnp.asarray(rng.normal(size=(16, OBS_DIM)), jnp.float32)
    next_obs = jnp.asarray(rng.normal(size=(40, OBS_DIM)), jnp.float32)
    rewards = jnp.asarray(rng.normal(size=(3, 40)), jnp.float32)
    z0 = goal_inference(agent.networks, params.backward, next_obs[:3])
    return agent, params, start_obs, next_obs, rewards, z0


def test_fb_value_estimate_of_an_exact_factorisation_is_the_exact_return(exact_setup):
    mdp, policy, rho, reward, fb, z = exact_setup
    states = np.eye(8)
    with jax.enable_x64(True):
        # E_rho[r B] over the 8 states with probabilities rho, as 8 equally weighted samples:
        value = float(fb_value_estimate(fb, FBParams(forward=None, backward=None),
                                        jnp.asarray(states), jnp.asarray(states),
                                        jnp.asarray(reward * rho * 8), jnp.asarray(z),
                                        start_weights=jnp.asarray(mdp.initial)))
    exact = tabular.discounted_return(mdp.transitions, policy, mdp.initial, reward, GAMMA)
    np.testing.assert_allclose(value, exact, rtol=1e-6)


def test_sample_start_states_sources():
    obs = jnp.arange(20, dtype=jnp.float32)[:, None]
    start = jnp.zeros(20).at[jnp.array([0, 5, 10])].set(1.0)
    data = Transition(obs, jnp.zeros((20, 1)), obs, jnp.zeros(20), start)
    key = jax.random.PRNGKey(0)
    init = np.asarray(sample_start_states(data, "init", key, 64))[:, 0]
    assert set(init) <= {0.0, 5.0, 10.0}
    anywhere = np.asarray(sample_start_states(data, "data", key, 400))[:, 0]
    assert len(set(anywhere)) > 10
    mix = np.asarray(sample_start_states(data, "mix", key, 64))[:, 0]
    assert set(mix[:32]) <= {0.0, 5.0, 10.0} and mix.shape == (64,)
    with pytest.raises(ValueError, match="unknown source"):
        sample_start_states(data, "uniform", key, 4)


def test_zol_objective_gradient_matches_finite_differences(tiny_model):
    agent, params, start_obs, next_obs, rewards, z0 = tiny_model
    config = ZOLConfig(beta=2.0)
    with jax.enable_x64(True):
        params64 = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), params)
        b = agent.networks.backward(params64.backward, jnp.asarray(next_obs, jnp.float64))
        args = (agent.networks, params64, jnp.asarray(start_obs, jnp.float64), b,
                jnp.asarray(rewards[0], jnp.float64), jnp.asarray(z0[0], jnp.float64), 0.9,
                config)

        @jax.jit  # compiled once: op by op, the 2 d + 1 calls below took most of this test
        def objective(z):
            return zol_objective(z, *args)[0]

        z = jnp.asarray(z0[1], jnp.float64)  # away from z0 so the trust term matters
        grad = np.asarray(jax.jit(jax.grad(objective))(z))
        eps = 1e-6
        fd = np.array([(objective(z.at[k].add(eps)) - objective(z.at[k].add(-eps))) / (2 * eps)
                       for k in range(z.shape[0])])
    assert np.abs(grad).max() > 1e-4  # a non-trivial gradient
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-8)


@pytest.fixture(scope="module")
def search_results(tiny_model):
    agent, params, start_obs, next_obs, rewards, z0 = tiny_model
    config = ZOLConfig(steps=25, lr=0.05)
    search = jax.jit(lambda r, z: zol_search(agent.networks, params, start_obs, next_obs, r, z,
                                             TINY.discount, config))
    return search, search(rewards, z0), config


def test_zol_search_over_prompts_equals_single_prompt_calls(tiny_model, search_results):
    _, _, _, _, rewards, z0 = tiny_model
    search, (z_batch, info), _ = search_results
    for p in range(rewards.shape[0]):
        z_single, info_single = search(rewards[p : p + 1], z0[p : p + 1])
        np.testing.assert_allclose(z_batch[p], z_single[0], rtol=1e-4, atol=1e-5)
        # The objective is a float32 mean of 40 terms of size ~1 and can sit near 0: batched and
        # single programs may round differently by ~40 ulp of 1 (40 * 6e-8 = 2.4e-6).
        np.testing.assert_allclose(info.objective[p], info_single.objective[0], rtol=1e-5,
                                   atol=2.4e-6)


def test_zol_search_keeps_the_best_measured_iterate(tiny_model, search_results):
    agent, params, start_obs, next_obs, rewards, z0 = tiny_model
    _, (z, info), config = search_results
    b = agent.networks.backward(params.backward, next_obs)
    for p in range(rewards.shape[0]):
        obj, _ = zol_objective(z[p], agent.networks, params, start_obs, b, rewards[p], z0[p],
                               TINY.discount, config)
        np.testing.assert_allclose(obj, info.objective[p], rtol=1e-4, atol=1e-6)
        assert float(obj) >= float(np.max(info.trace[p])) - 1e-5
        assert float(obj) >= float(info.initial_objective[p]) - 1e-6
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), np.sqrt(TINY.z_dim), rtol=1e-5)
    assert float(np.max(info.objective - info.initial_objective)) > 0  # it does improve


def test_ratio_weighted_regression_step_and_batching(tiny_model):
    agent, params, start_obs, next_obs, rewards, z0 = tiny_model
    z1, _ = ratio_weighted_regression(agent.networks, params, start_obs, next_obs, rewards, z0,
                                      TINY.discount, iterations=1)
    b = np.asarray(agent.networks.backward(params.backward, next_obs))
    for p in range(rewards.shape[0]):
        w = np.asarray(density_ratio(agent.networks, params, start_obs, next_obs, z0[p],
                                     TINY.discount, transform="linear"))
        expected = (w * np.asarray(rewards[p])) @ b / 40
        expected = np.sqrt(TINY.z_dim) * expected / np.linalg.norm(expected)
        np.testing.assert_allclose(z1[p], expected, rtol=1e-4, atol=1e-5)
    z3, deltas = ratio_weighted_regression(agent.networks, params, start_obs, next_obs, rewards,
                                           z0, TINY.discount, iterations=3)
    z3_single, _ = ratio_weighted_regression(agent.networks, params, start_obs, next_obs,
                                             rewards[1:2], z0[1:2], TINY.discount, iterations=3)
    np.testing.assert_allclose(z3[1], z3_single[0], rtol=1e-4, atol=1e-5)
    assert deltas.shape == (3, 3)


def test_zol_gradient_is_tangential_to_the_sphere(tiny_model):
    """O is evaluated at proj(z): at z on the sphere its gradient has no radial part, and scaling
    z changes nothing."""
    agent, params, start_obs, next_obs, rewards, z0 = tiny_model
    b = agent.networks.backward(params.backward, next_obs)
    config = ZOLConfig(beta=2.0)

    def objective(z):
        return zol_objective(z, agent.networks, params, start_obs, b, rewards[0], z0[0],
                             TINY.discount, config)[0]

    z = z0[1]
    grad = np.asarray(jax.grad(objective)(z))
    assert np.abs(grad).max() > 1e-4
    np.testing.assert_allclose(grad @ np.asarray(z) / np.linalg.norm(grad) / np.linalg.norm(z),
                               0.0, atol=1e-5)
    np.testing.assert_allclose(objective(3.0 * z), objective(z), rtol=1e-5)


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_zol_grid_equals_one_search_per_config(tiny_model):
    agent, params, start_obs, next_obs, rewards, z0 = tiny_model
    configs = [ZOLConfig(steps=10, lr=lr, chi2_coef=c, clip=clip)
               for lr, c, clip in ((0.05, 0.0, 20.0), (0.01, 0.1, None))]
    z_grid, info = zol_grid(agent.networks, params, start_obs, next_obs, rewards, z0,
                            TINY.discount, configs)
    assert z_grid.shape == (2, *z0.shape)
    for g, config in enumerate(configs):
        z, one = zol_search(agent.networks, params, start_obs, next_obs, rewards, z0,
                            TINY.discount, config)
        np.testing.assert_allclose(z_grid[g], z, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(info.at_z.ess[g], one.at_z.ess, rtol=1e-4)
    # The settings a grid may vary are exactly the traced ones.
    from fbjax.zol.search import NUMERIC, Numeric
    assert tuple(f.name for f in dataclasses.fields(Numeric)) == NUMERIC
    with pytest.raises(ValueError, match="differ in steps"):
        zol_grid(agent.networks, params, start_obs, next_obs, rewards, z0, TINY.discount,
                 [ZOLConfig(steps=3), ZOLConfig(steps=4)])


def test_start_sets_append_each_prompts_top_reward_states():
    init_obs, data_obs = jnp.zeros((2, 1)), jnp.ones((3, 1))
    next_obs = jnp.arange(10, dtype=jnp.float32)[:, None]
    rewards = jnp.stack([jnp.arange(10.0), -jnp.arange(10.0)])
    top = start_sets(ZOLConfig(starts="data_topk", top_k=0.2), init_obs, data_obs, next_obs,
                     rewards)
    assert top.shape == (2, 5, 1)
    np.testing.assert_array_equal(top[0, :3, 0], 1.0)
    assert set(np.asarray(top[0, 3:, 0])) == {8.0, 9.0}
    assert set(np.asarray(top[1, 3:, 0])) == {0.0, 1.0}
    init = start_sets(ZOLConfig(starts="init"), init_obs, data_obs, next_obs, rewards)
    assert init.shape == (2, 2, 1) and float(jnp.abs(init).max()) == 0.0
    with pytest.raises(ValueError, match="starts 'top' is not one of"):
        ZOLConfig(starts="top")


def test_zol_diagnostics_of_a_uniform_ratio():
    """w = 1 everywhere: ESS 1, chi^2 0, max w 1; c_z is the mean linear estimate."""
    from fbjax.zol import ratio_diagnostics

    linear = jnp.array([-1.0, 1.0, 2.0, 2.0])
    d = ratio_diagnostics(linear, jnp.ones(4))
    assert float(d["ess"]) == pytest.approx(1.0) and float(d["chi2"]) == 0.0
    assert float(d["c_z"]) == pytest.approx(1.0) and float(d["frac_negative"]) == 0.25
    d = ratio_diagnostics(linear, jnp.array([4.0, 0.0, 0.0, 0.0]))
    assert float(d["ess"]) == pytest.approx(0.25) and float(d["max_w"]) == 4.0


def test_zol_search_and_the_ratio_refuse_prompts_that_do_not_fit_with_the_expected_shapes():
    from fbjax.fb import FBAgent, FBConfig
    from fbjax.zol import ZOLConfig, density_ratio, zol_search

    agent = FBAgent(FBConfig(z_dim=4, backward_hidden=8, forward_hidden=8, actor_hidden=8,
                             batch_size=8), obs_dim=3, action_dim=2)
    params = agent.init(jax.random.PRNGKey(0)).params
    nets, obs = agent.networks, jnp.zeros((10, 3))
    z0, rewards = jnp.ones((2, 4)), jnp.ones((2, 10))
    config = ZOLConfig(steps=1)
    with pytest.raises(ValueError, match=r"expected rewards \(P, n\) and z0 \(P, 4\)"):
        zol_search(nets, params, obs, obs, rewards[0], z0[0], 0.9, config)
    with pytest.raises(ValueError, match=r"expected next_obs \(10, 3\)"):
        zol_search(nets, params, obs, jnp.zeros((10, 5)), rewards, z0, 0.9, config)
    with pytest.raises(ValueError, match=r"expected start_obs \(m, 3\)"):
        zol_search(nets, params, jnp.zeros((4, 2)), obs, rewards, z0, 0.9, config)
    with pytest.raises(ValueError, match=r"expected z0 \(2, 4\)"):
        zol_search(nets, params, obs, obs, rewards, jnp.ones((2, 5)), 0.9, config)
    with pytest.raises(ValueError, match="model's width 3 and z of 4"):
        density_ratio(nets, params, jnp.zeros((4, 5)), jnp.zeros((10, 5)), z0[0], 0.9)
