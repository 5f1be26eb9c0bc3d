"""DualDICE: the loss against a per-sample loop, and its saddle point against the exact ratio of
the dataset's own (empirical) MDP."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fbjax import tabular
from fbjax.dice import DualDICE, DualDICEConfig

GAMMA, S, A = 0.9, 8, 3


@pytest.fixture(scope="module")
def problem():
    mdp = tabular.random_mdp(S, A, seed=3)
    data = tabular.collect(mdp, tabular.uniform_policy(S, A), 2000, 20, seed=1)
    greedy = np.eye(A)[np.random.default_rng(0).integers(0, A, S)]
    policy = 0.8 * greedy + 0.2 / A  # far from the uniform behaviour, with full support
    return mdp, data, policy


def test_loss_matches_per_sample_reference(problem):
    mdp, data, policy = problem
    ds = data.to_transitions(mdp)
    dice = DualDICE(DualDICEConfig(hidden=(8,), discount=GAMMA), S, A)
    params = dice.init(jax.random.PRNGKey(0)).params
    probs = np.asarray(policy, np.float32)
    batch = jax.tree.map(lambda x: x[:12], ds)
    start = ds.obs[:5]
    got = dice.loss(params, batch, jnp.asarray(batch.next_obs @ probs), start, start @ probs)

    def values(name, obs):
        return np.asarray(dice.module.apply({"params": getattr(params, name)}, obs[None]))[0]

    total = 0.0
    for i in range(12):
        nu = values("nu", batch.obs[i])[int(batch.action[i])]
        zeta = values("zeta", batch.obs[i])[int(batch.action[i])]
        s_next = int(np.argmax(batch.next_obs[i]))
        nu_next = values("nu", batch.next_obs[i]) @ policy[s_next]
        total += (nu - GAMMA * nu_next) * zeta - zeta**2 / 2
    start_term = np.mean([values("nu", start[j]) @ policy[int(np.argmax(start[j]))]
                          for j in range(5)])
    np.testing.assert_allclose(got, total / 12 - (1 - GAMMA) * start_term, rtol=1e-5, atol=1e-6)


def test_tabular_saddle_point_is_the_empirical_occupancy_ratio(problem):
    mdp, data, policy = problem
    ds = data.to_transitions(mdp)
    counts = np.zeros((S, A, S))
    np.add.at(counts, (data.state, data.action, data.next_state), 1)
    p_hat = counts / counts.sum(-1, keepdims=True)
    rho0_hat = np.bincount(data.state[data.start], minlength=S) / data.start.sum()
    exact_next = tabular.occupancy(p_hat, policy, rho0_hat, GAMMA)

    dice = DualDICE(DualDICEConfig(lr=1e-2, steps=5000, batch_size=512, discount=GAMMA), S, A)
    start_obs = ds.obs[np.asarray(ds.start) > 0]
    state, metrics = jax.jit(lambda s, k: dice.train(
        s, ds, lambda o: o @ jnp.asarray(policy, jnp.float32), start_obs, k))(
        dice.init(jax.random.PRNGKey(0)), jax.random.PRNGKey(1))
    zeta = np.asarray(dice.state_action_ratio(state, ds.obs, ds.action))
    estimate = np.bincount(data.next_state, weights=zeta, minlength=S)
    estimate /= estimate.sum()
    tv = 0.5 * np.abs(estimate - exact_next).sum()
    # Optimisation tolerance: minibatch Adam on a min-max problem stops near, not at, the saddle;
    # 0.02 in TV is several times tighter than the behaviour policy's occupancy is from this one.
    far = 0.5 * np.abs(tabular.occupancy(p_hat, tabular.uniform_policy(S, A), rho0_hat, GAMMA)
                       - exact_next).sum()
    assert tv <= 0.02 and far > 4 * 0.02 and set(metrics) == {"loss"}
