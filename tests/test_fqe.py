"""Fitted Q evaluation against exact policy evaluation on a finite MDP."""

import jax
import jax.numpy as jnp
import numpy as np

from fbjax import tabular
from fbjax.agent import Vmapped, train_steps
from fbjax.baselines import FQE, FQEConfig
from fbjax.types import Labelled

GAMMA = 0.8


def test_fqe_recovers_exact_q_values_of_two_policies_at_once():
    """Rows cover every (s, a) 200 times with sampled s'; the exact answer is policy evaluation
    under the empirical transitions of those rows (so only optimisation error remains). Two
    policies train as two copies in one program, each with its own next actions."""
    mdp = tabular.random_mdp(6, 2, seed=1)
    s_count, a_count = 6, 2
    rng = np.random.default_rng(0)
    states = np.repeat(np.arange(s_count), a_count * 200)
    actions = np.tile(np.repeat(np.arange(a_count), 200), s_count)
    next_states = np.array([rng.choice(s_count, p=mdp.transitions[s, a])
                            for s, a in zip(states, actions, strict=True)])
    reward = rng.uniform(0.0, 1.0, size=(s_count, 2))  # two rewards on next states
    policies = [tabular.greedy_policy(rng.normal(size=(s_count, a_count))) for _ in range(2)]
    eye_s, eye_a = np.eye(s_count, dtype=np.float32), np.eye(a_count, dtype=np.float32)
    batch_data = Labelled(
        obs=eye_s[states], action=eye_a[actions], next_obs=eye_s[next_states],
        reward=reward[next_states].astype(np.float32),
        terminal=np.zeros(len(states), np.float32),
        # (rows, action_dim, copies): each copy's policy at s'
        next_action=np.stack([eye_a[p.argmax(1)[next_states]] for p in policies], -1),
    )
    fqe = FQE(FQEConfig(hidden=64, layers=2, lr=1e-3, discount=GAMMA, tau=0.05, batch_size=256),
              s_count, a_count, num_rewards=2)
    agent = Vmapped(fqe, 2, per_copy=("next_action",))
    state = agent.init(jax.random.PRNGKey(0))
    batch_data = jax.device_put(batch_data)
    state, _ = jax.jit(lambda s, k: train_steps(agent, s, batch_data, k, 4000))(
        state, jax.random.PRNGKey(1))

    empirical = np.zeros((s_count, a_count, s_count))
    np.add.at(empirical, (states, actions, next_states), 1.0)
    empirical /= empirical.sum(-1, keepdims=True)
    for c, policy in enumerate(policies):
        exact = np.stack([tabular.q_values(empirical, policy, reward[:, k], GAMMA)
                          for k in range(2)], -1)  # (S, A, 2)
        params = jax.tree.map(lambda x, c=c: x[c], state.params)
        greedy = policy.argmax(1)
        got = np.asarray(fqe.q.apply(params, jnp.asarray(eye_s), jnp.asarray(eye_a[greedy])))
        want = exact[np.arange(s_count), greedy]
        # Q lies in [0, 1 / (1 - gamma)] = [0, 5]; a converged fit is within 2% of that scale.
        np.testing.assert_allclose(got, want, atol=0.02 / (1 - GAMMA))
        value = np.asarray(fqe.value(params, jnp.asarray(eye_s), jnp.asarray(eye_a[greedy])))
        np.testing.assert_allclose(value, want.mean(0), atol=0.02 / (1 - GAMMA))
