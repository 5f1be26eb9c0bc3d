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
