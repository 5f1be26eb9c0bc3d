"""Finite MDPs and their exact quantities, checked against Monte-Carlo rollouts of the same MDP."""

import numpy as np
import pytest

from fbjax import tabular

GAMMA = 0.8
HORIZON = 80  # truncation bias of a rollout sum <= GAMMA**HORIZON / (1 - GAMMA) ~ 9e-8


def _rollout_sums(mdp, policy, states, actions, rng):
    """Per rollout and state u: sum_t GAMMA^t 1[s_{t+1} = u], for rollouts started at
    (states[i], actions[i]) and following `policy` afterwards."""
    n, num_states = len(states), mdp.num_states
    sums = np.zeros((n, num_states))
    next_cdf, action_cdf = np.cumsum(mdp.transitions, -1), np.cumsum(policy, -1)
    s, a = states.copy(), actions.copy()
    for t in range(HORIZON):
        u = rng.random((n, 1))
        s = np.minimum((u > next_cdf[s, a]).sum(-1), num_states - 1)
        sums[np.arange(n), s] += GAMMA**t
        a = np.minimum((rng.random((n, 1)) > action_cdf[s]).sum(-1), mdp.num_actions - 1)
    return sums


def _assert_within_sampling_error(samples, exact):
    """|mean - exact| <= 5 standard errors (+ the truncation bias), entry by entry."""
    mean = samples.mean(0)
    stderr = samples.std(0, ddof=1) / np.sqrt(len(samples))
    bound = 5 * stderr + GAMMA**HORIZON / (1 - GAMMA) + 1e-12
    assert np.all(np.abs(mean - exact) <= bound), np.max(np.abs(mean - exact) / bound)


@pytest.fixture(scope="module")
def mdp_and_policy():
    mdp = tabular.random_mdp(5, 3, seed=1)
    policy = np.random.default_rng(2).dirichlet(np.ones(3), size=5)
    return mdp, policy


def test_successor_measure_matches_monte_carlo(mdp_and_policy):
    mdp, policy = mdp_and_policy
    exact = tabular.successor_measure(mdp.transitions, policy, GAMMA)
    rng = np.random.default_rng(3)
    per_pair = 3000
    for s in range(mdp.num_states):
        for a in range(mdp.num_actions):
            sums = _rollout_sums(mdp, policy, np.full(per_pair, s), np.full(per_pair, a), rng)
            _assert_within_sampling_error(sums, exact[s, a])
    np.testing.assert_allclose(exact.sum(-1), 1 / (1 - GAMMA), rtol=1e-10)


def test_occupancy_matches_monte_carlo(mdp_and_policy):
    mdp, policy = mdp_and_policy
    exact = tabular.occupancy(mdp.transitions, policy, mdp.initial, GAMMA)
    rng = np.random.default_rng(4)
    n = 20000
    s0 = rng.choice(mdp.num_states, size=n, p=mdp.initial)
    a0 = np.minimum((rng.random((n, 1)) > np.cumsum(policy, -1)[s0]).sum(-1), 2)
    _assert_within_sampling_error((1 - GAMMA) * _rollout_sums(mdp, policy, s0, a0, rng), exact)
    np.testing.assert_allclose(exact.sum(), 1.0, rtol=1e-10)


def test_successor_measure_is_the_discounted_series(mdp_and_policy):
    mdp, policy = mdp_and_policy
    p_pi = tabular.policy_transition(mdp.transitions, policy)
    series = sum(GAMMA**t * np.einsum("sat,tu->sau", mdp.transitions,
                                      np.linalg.matrix_power(p_pi, t)) for t in range(200))
    np.testing.assert_allclose(tabular.successor_measure(mdp.transitions, policy, GAMMA), series,
                               rtol=1e-9, atol=1e-12)


def test_density_ratio_reweights_rho_into_the_occupancy(mdp_and_policy):
    mdp, policy = mdp_and_policy
    occ = tabular.occupancy(mdp.transitions, policy, mdp.initial, GAMMA)
    rho = np.random.default_rng(5).dirichlet(np.ones(mdp.num_states))
    w = tabular.density_ratio(occ, rho)
    np.testing.assert_allclose(w * rho, occ, rtol=1e-12)
    assert tabular.density_ratio(occ, np.array([0.0, 0.25, 0.25, 0.25, 0.25]))[0] == 0.0


def test_discounted_return_equals_value_of_q(mdp_and_policy):
    mdp, policy = mdp_and_policy
    r = np.random.default_rng(6).normal(size=mdp.num_states)
    q = tabular.q_values(mdp.transitions, policy, r, GAMMA)
    by_q = float(np.einsum("s,sa,sa->", mdp.initial, policy, q))
    np.testing.assert_allclose(tabular.discounted_return(mdp.transitions, policy, mdp.initial, r,
                                                         GAMMA), by_q, rtol=1e-10)


def test_four_rooms_layout_and_moves():
    mdp = tabular.four_rooms(7)
    assert (mdp.num_states, mdp.num_actions) == (40, 5)
    index = {tuple(c): i for i, c in enumerate(mdp.cells)}
    p = mdp.transitions
    assert np.all(p.max(-1) == 1.0)  # deterministic without slip
    left, up = tabular.GRID_ACTION_NAMES.index("left"), tabular.GRID_ACTION_NAMES.index("up")
    assert p[index[(0, 2)], left, index[(0, 1)]] == 1.0
    assert p[index[(0, 4)], left, index[(0, 4)]] == 1.0  # wall at column 3 blocks
    assert p[index[(1, 3)], left, index[(1, 2)]] == 1.0  # doorway
    assert p[index[(0, 0)], up, index[(0, 0)]] == 1.0  # border
    slippery = tabular.four_rooms(7, slip=0.2)
    assert np.isclose(slippery.transitions[index[(0, 2)], left, index[(0, 1)]], 0.8 + 0.2 / 5)
    with pytest.raises(ValueError, match="size must be odd"):
        tabular.four_rooms(6)


def test_collect_records_episodes_from_rho0_and_follows_the_mdp():
    mdp = tabular.random_mdp(6, 2, seed=7, branching=2)
    policy = np.tile([0.25, 0.75], (6, 1))
    data = tabular.collect(mdp, policy, num_episodes=400, episode_length=10, seed=8)
    assert len(data.state) == 4000 and data.start.sum() == 400
    starts = data.start.reshape(400, 10)
    assert np.all(starts[:, 0]) and not starts[:, 1:].any()
    assert np.all(mdp.transitions[data.state, data.action, data.next_state] > 0)
    chained = data.state.reshape(400, 10)[:, 1:] == data.next_state.reshape(400, 10)[:, :-1]
    assert chained.all()
    # 4000 Bernoulli(0.75) actions: standard deviation 0.0068.
    assert abs(data.action.mean() - 0.75) < 5 * np.sqrt(0.75 * 0.25 / 4000)
    rho = data.next_state_distribution(6)
    np.testing.assert_allclose(rho.sum(), 1.0)
    with pytest.raises(ValueError, match="policy must be"):
        tabular.collect(mdp, policy[:3], 1, 1)
