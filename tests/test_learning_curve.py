"""The development-task tools: the learning curve's table (prompts as a column, the rewarded-state
counts, old files) and the reward-coverage count."""

import numpy as np

from fbjax.eval.dev_tasks import (
    DEV_GOALS,
    CoverageResult,
    LearningCurve,
    coverage_table,
    goal_states,
    learning_curve_table,
    rewarded,
)
from fbjax.eval.zero_shot import REWARDED_RULE


def _result(rows, coverage=None):
    result = {"domain": "point_mass_maze", "seed": 100, "tasks": DEV_GOALS, "episodes": 5,
              "batch_size": 256, "dataset_rows": 2_048_000, "rows": rows,
              "reference": {"navigator": [900.0, 800.0, 700.0, 600.0],
                            "random": [0.0, 0.0, 0.0, 0.0]}}
    if coverage is not None:
        result["coverage"] = coverage
    return result


def test_goal_states_are_the_goals_at_rest():
    states = np.asarray(goal_states(list(DEV_GOALS.values())))
    np.testing.assert_array_equal(states[:, :2], np.asarray(list(DEV_GOALS.values()), np.float32))
    np.testing.assert_array_equal(states[:, 2:], 0.0)


def test_learning_curve_table_has_a_row_per_prompt_and_the_rewarded_counts():
    rows = [{"updates": 20000, "train_wall_s": 160.0, "prompt": prompt,
             "returns": returns, "mean_return": float(np.mean(returns)), "pct_of_navigator": pct}
            for prompt, returns, pct in (("reward", [700.0, 0.0, 20.0, 0.0], 20.2),
                                         ("goal", [900.0, 0.0, 120.0, 0.0], 29.3))]
    coverage = {"rule": REWARDED_RULE, "dataset_share": [0.0158, 0.0001, 0.0163, 0.0006],
                "rewarded_in_inference_sample": [149, 1, 159, 0], "inference_samples": 10000}
    text = learning_curve_table(LearningCurve.from_json(_result(rows, coverage)))
    assert "| 20000 | 160.0 | reward | 700.0 | 0.0 | 20.0 | 0.0 | 180.0 | 20.2 |" in text
    assert "| 20000 | 160.0 | goal | 900.0 | 0.0 | 120.0 | 0.0 | 255.0 | 29.3 |" in text
    assert "Rewarded states (reward >= 0.1 x the task's largest in the data) per goal:" in text
    assert "dev_top_right 0.010% of the dataset (1 of the 10000 inference samples)" in text
    assert "| navigator | | | 900.0 | 800.0 | 700.0 | 600.0 | 750.0 | |" in text


def test_learning_curve_table_reads_files_from_before_the_prompt_column():
    rows = [{"updates": 10000, "train_wall_s": 82.2, "returns": [0.8, 0.0, 0.0, 0.0],
             "mean_return": 0.2, "pct_of_navigator": 0.0}]
    text = learning_curve_table(LearningCurve.from_json(_result(rows)))
    assert "| 10000 | 82.2 | reward | 0.8 | 0.0 | 0.0 | 0.0 | 0.2 | 0.0 |" in text
    assert "Rewarded states" not in text
    # Coverage counted before its threshold was recorded: reward > 0, said so.
    counts = {"dataset_share": [0.2, 0.03, 0.08, 0.02],
              "rewarded_in_inference_sample": [1997, 282, 814, 152], "inference_samples": 10000}
    text = learning_curve_table(LearningCurve.from_json(_result(rows, counts)))
    assert "Rewarded states (reward > 0, which counts the Gaussian tail" in text
    # ... and with the absolute threshold the next files recorded.
    text = learning_curve_table(
        LearningCurve.from_json(_result(rows, {"reward_at_least": 0.1, **counts})))
    assert "Rewarded states (reward >= 0.1) per goal:" in text


def test_rewarded_counts_rewards_of_a_tenth_of_each_tasks_largest():
    # Task 0 peaks at 1.0 (rewarded from 0.1), task 1 at 0.5 (from 0.05).
    rewards = np.array([[0.0, 0.5], [1e-20, 0.1], [0.09, 0.04], [1.0, 0.2]])  # (N=4, T=2)
    counts = rewarded(rewards, rewards[[0, 3]].T)  # a 2-transition sample
    assert counts.dataset_share == (0.25, 0.75)
    assert counts.rewarded_in_inference_sample == (1, 2)
    assert counts.inference_samples == 2 and counts.rule == REWARDED_RULE


def test_reward_coverage_table():
    result = {"domain": "point_mass_maze", "dataset_rows": 2_048_000, "rule": REWARDED_RULE,
              "inference_samples": 10_000, "seeds": [0, 1],
              "rows": [{"kind": "reported", "task": "reach_top_right", "dataset_share": 0.0123,
                        "in_inference_sample": [130, 118]}]}
    text = coverage_table(CoverageResult.from_json(result))
    assert "| reported | reach_top_right | 1.230% | 130, 118 |" in text
    assert "rewarded = reward >= 0.1 x the task's largest in the data." in text
