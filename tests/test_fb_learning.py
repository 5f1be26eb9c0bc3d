"""Learned FB against the exact answer on the four-rooms gridworld (one-hot states, d >= |S|),
with the README's default config (experiments/configs/tabular.py).

(a) policy evaluation of the uniform behaviour policy: mean row TV(learned M, exact M) <= 0.1;
(b) control: for goal prompts z = goal_inference(g), the greedy pi_z reaches g from >= 90% of
    the start states, for each of several goals.
"""

import jax
import pytest

from experiments.configs import tabular as tabular_config
from fbjax.pipeline.config import experiment_config
from fbjax.pipeline.tabular import (
    build_mdp,
    collect_uniform,
    evaluate_phase,
    make_agent,
    phase_steps,
)
from fbjax.tabular.evaluate import mean_row_tv
from fbjax.train import fit

pytestmark = pytest.mark.slow


def _train_and_evaluate(phase):
    config = experiment_config(tabular_config.get_config().to_dict())
    mdp = build_mdp(config.env)
    data = collect_uniform(mdp, config.data)
    agent = make_agent(mdp, config.fb, phase)
    assert agent.config.z_dim >= mdp.num_states
    init_key, train_key = jax.random.split(jax.random.PRNGKey(config.seed))
    state = fit(agent, agent.init(init_key), data.to_transitions(mdp),
                num_steps=phase_steps(config, phase), key=train_key,
                steps_per_call=config.train.steps_per_call, progress_fn=None)
    rho = data.next_state_distribution(mdp.num_states)
    return evaluate_phase(agent, state.params, mdp, rho, phase, config.num_goals, config.seed)


def test_policy_evaluation_recovers_the_exact_successor_measure():
    result = _train_and_evaluate("policy_eval")
    print("policy_eval TV per z:", result["tv_per_z"])
    assert result["tv_mean"] <= 0.1


def test_goal_prompts_reach_their_goals():
    result = _train_and_evaluate("control")
    print("control:", result["goals"])
    assert len(result["goals"]) >= 4
    assert all(row["success"] >= 0.9 for row in result["goals"]), result["goals"]


def test_goal_space_merges_states_in_the_successor_measure_and_the_free_ratio():
    """B on a goal space g(s) (FBConfig.goal_indices): the one-hot coordinates of the first 20
    states, so the other 20 states all map to one goal point (the zero vector) and are merged.
    Policy evaluation of the uniform policy must then learn the pushed-forward measure
    M_g(s, a, G) = sum_{s': g(s') = G} M(s, a, s') (same bar as the full-state test: mean row
    TV <= 0.1), and the free ratio (1 - gamma) W_z . B(G) times rho_g(G) must be the exact
    pushed-forward occupancy d_g of the uniform policy from the episode starts (TV <= 0.1)."""
    import dataclasses

    import jax.numpy as jnp
    import numpy as np

    from fbjax.tabular.exact import occupancy, successor_measure, uniform_policy
    from fbjax.tabular.ratio_eval import start_distribution

    config = experiment_config(tabular_config.get_config().to_dict())
    mdp = build_mdp(config.env)
    kept = 20
    fb = dataclasses.replace(config.fb, goal_indices=tuple(range(kept)))
    data = collect_uniform(mdp, config.data)
    agent = make_agent(mdp, fb, "policy_eval")
    assert agent.networks.goal_dim == kept
    init_key, train_key = jax.random.split(jax.random.PRNGKey(config.seed))
    state = fit(agent, agent.init(init_key), data.to_transitions(mdp),
                num_steps=config.policy_eval_steps, key=train_key,
                steps_per_call=config.train.steps_per_call, progress_fn=None)
    params, nets, gamma = state.params, agent.networks, fb.discount

    def merge(x):  # (..., S) -> (..., kept + 1): the last column is the merged goal
        return np.concatenate([x[..., :kept], x[..., kept:].sum(-1, keepdims=True)], axis=-1)

    policy = uniform_policy(mdp.num_states, mdp.num_actions)
    rho_g = merge(data.next_state_distribution(mdp.num_states))
    exact_m = merge(successor_measure(mdp.transitions, policy, gamma))  # (S, A, kept + 1)
    rho0 = start_distribution(data, mdp.num_states, "init")
    exact_d = merge(occupancy(mdp.transitions, policy, rho0, gamma))

    goal_points = jnp.concatenate([jnp.eye(kept), jnp.zeros((1, kept))])  # g(s) of each class
    b = nets.backward_goal(params.backward, goal_points)  # (kept + 1, d)
    states = jnp.asarray(mdp.one_hot(np.arange(mdp.num_states)))
    z = jnp.broadcast_to(jax.random.normal(jax.random.PRNGKey(7), (fb.z_dim,)),
                         (mdp.num_states, fb.z_dim))
    f = nets.forward(params.forward, states, None, z).mean(axis=0)  # (S, A, d)
    learned_m = np.asarray(jnp.einsum("sad,gd->sag", f, b)) * rho_g
    tv_m = mean_row_tv(learned_m, exact_m)
    w = (1 - gamma) * np.einsum("s,sa,sad,gd->g", rho0, policy, np.asarray(f), np.asarray(b))
    learned_d = np.maximum(w * rho_g, 0.0)
    tv_d = 0.5 * np.abs(learned_d / learned_d.sum() - exact_d).sum()
    print(f"goal space: mean row TV of M_g {tv_m:.3f}, TV of the ratio's occupancy {tv_d:.3f}")
    assert tv_m <= 0.1
    assert tv_d <= 0.1
