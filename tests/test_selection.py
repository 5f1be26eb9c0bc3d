"""ZOL's setting is chosen per task on the other tasks, or on development seeds."""

import dataclasses

from fbjax.eval.results import Row
from fbjax.pipeline.arms import add_zol_arms, select_settings
from fbjax.zol import PUBLISHED, ZOLConfig


def _rows(table):
    """table[g][task] = the returns of grid setting g on that task (one seed)."""
    return [Row(0, task, f"zol_grid_{g}", returns, returns)
            for g, per_task in enumerate(table) for task, returns in per_task.items()]


def test_a_task_never_selects_by_its_own_returns():
    # Setting 1 is far best on task a but worst on b and c; setting 0 is best on b and c.
    table = [{"a": [0.0], "b": [5.0], "c": [5.0]},
             {"a": [100.0], "b": [0.0], "c": [0.0]}]
    grid = [PUBLISHED, ZOLConfig(lr=1e-4)]
    selection = select_settings(_rows(table), grid, ["a", "b", "c"])
    assert selection["a"].index == 0  # chosen on b and c, where setting 0 wins
    assert selection["b"].index == 0 and selection["b"].held_out_score == 0.5
    # Changing task a's own returns cannot change task a's choice.
    table[1]["a"] = [-100.0]
    assert select_settings(_rows(table), grid, ["a", "b", "c"])["a"].index == 0
    rows = add_zol_arms(_rows(table), selection, ["zol_published", "zol_selected"])
    selected = [r for r in rows if r.method == "zol_selected"]
    assert {r.task for r in selected} == {"a", "b", "c"}
    assert all(r.returns == table[0][r.task] for r in selected)


def test_with_development_seeds_a_task_selects_on_those_seeds_alone():
    """Seed 0 (development) favours setting 1 on task a, seed 1 (test) favours setting 0: the
    choice follows seed 0, and changing seed 1's returns cannot change it."""
    grid = [PUBLISHED, ZOLConfig(lr=1e-4)]
    dev = _rows([{"a": [0.0]}, {"a": [10.0]}])
    test = [dataclasses.replace(r, seed=1, returns=[10.0 - r.returns[0]]) for r in dev]
    selection = select_settings(dev + test, grid, ["a"], dev_seeds=(0,))
    assert selection["a"].index == 1 and selection["a"].dev_seed_return == 10.0
    assert selection["a"].dev_seeds == [0]
    flipped = [dataclasses.replace(r, returns=[1e6 * (r.method == "zol_grid_0")]) for r in test]
    assert select_settings(dev + flipped, grid, ["a"], dev_seeds=(0,))["a"].index == 1


def test_development_seeds_must_leave_a_test_seed():
    import pytest

    from fbjax.pipeline.config import EvalConfig, ExperimentConfig

    with pytest.raises(ValueError, match=r"selection_seeds \[0, 1\] must be some of seeds"):
        ExperimentConfig(seeds=(0, 1), eval=EvalConfig(selection_seeds=(0, 1)))
    with pytest.raises(ValueError, match=r"selection_seeds \[5\]"):
        ExperimentConfig(seeds=(0, 1), eval=EvalConfig(selection_seeds=(5,)))
    assert ExperimentConfig(seeds=(0, 1), eval=EvalConfig(selection_seeds=(0,)))
