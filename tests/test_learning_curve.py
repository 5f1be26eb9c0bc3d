"""The learning curve's table: prompts as a column, the rewarded-state counts, old files."""

import numpy as np

from experiments.learning_curve import DEV_GOALS, goal_states, markdown


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


def test_markdown_has_a_row_per_prompt_and_the_rewarded_counts():
    rows = [{"updates": 20000, "train_wall_s": 160.0, "prompt": prompt,
             "returns": returns, "mean_return": float(np.mean(returns)), "pct_of_navigator": pct}
            for prompt, returns, pct in (("reward", [700.0, 0.0, 20.0, 0.0], 20.2),
                                         ("goal", [900.0, 0.0, 120.0, 0.0], 29.3))]
    coverage = {"reward_at_least": 0.1, "dataset_share": [0.0158, 0.0001, 0.0163, 0.0006],
                "rewarded_in_inference_sample": [149, 1, 159, 0], "inference_samples": 10000}
    text = markdown(_result(rows, coverage))
    assert "| 20000 | 160.0 | reward | 700.0 | 0.0 | 20.0 | 0.0 | 180.0 | 20.2 |" in text
    assert "| 20000 | 160.0 | goal | 900.0 | 0.0 | 120.0 | 0.0 | 255.0 | 29.3 |" in text
    assert "Rewarded states (reward >= 0.1) per goal:" in text
    assert "dev_top_right 0.010% of the dataset (1 of the 10000 inference samples)" in text
    assert "| navigator | | | 900.0 | 800.0 | 700.0 | 600.0 | 750.0 | |" in text


def test_markdown_reads_files_from_before_the_prompt_column():
    rows = [{"updates": 10000, "train_wall_s": 82.2, "returns": [0.8, 0.0, 0.0, 0.0],
             "mean_return": 0.2, "pct_of_navigator": 0.0}]
    text = markdown(_result(rows))
    assert "| 10000 | 82.2 | reward | 0.8 | 0.0 | 0.0 | 0.0 | 0.2 | 0.0 |" in text
    assert "Rewarded states" not in text
    # Coverage counted before its threshold was recorded: reward > 0, said so.
    text = markdown(_result(rows, {"dataset_share": [0.2, 0.03, 0.08, 0.02],
                                   "rewarded_in_inference_sample": [1997, 282, 814, 152],
                                   "inference_samples": 10000}))
    assert "Rewarded states (reward > 0, which counts the Gaussian tail" in text
