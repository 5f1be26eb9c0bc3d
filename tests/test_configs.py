"""from_dict: strict, nested, completed from the field's own default; differences: every leaf."""

import dataclasses

import pytest

from fbjax.baselines import RNDConfig, TD3Config
from fbjax.configs import differences, from_dict, to_dict
from fbjax.data.collect import CollectConfig
from fbjax.pipeline.config import ExperimentConfig, experiment_config


def test_nested_sections_are_built_and_completed_from_the_field_default():
    config = from_dict(CollectConfig, {"policy": "noise", "rnd": {"td3": {"hidden": 32}}})
    assert config.policy == "noise"
    assert isinstance(config.rnd, RNDConfig) and isinstance(config.rnd.td3, TD3Config)
    # RNDConfig's own td3 default has discount 0.99 (TD3Config's is 0.98): it is kept.
    assert config.rnd.td3 == dataclasses.replace(RNDConfig().td3, hidden=32)


def test_lists_become_tuples_and_ints_floats():
    config = from_dict(ExperimentConfig, {"seeds": [3, 4], "fb": {"discount": 0}})
    assert config.seeds == (3, 4)
    assert isinstance(config.fb.discount, float)


def test_records_read_from_files_build_their_items_and_may_hold_more():
    """A record read from a results file: dataclass items of dict, list and optional fields are
    built too, and strict=False leaves out what the reader does not need (a file may hold
    more); a wrong item still names its path."""
    @dataclasses.dataclass(frozen=True)
    class Item:
        index: int
        score: float | None = None

    @dataclasses.dataclass(frozen=True)
    class Record:
        by_task: dict[str, Item] | None
        items: list[Item]

    got = from_dict(Record, {"by_task": {"a": {"index": 1, "score": 2, "extra": 0}},
                             "items": [{"index": 3}], "more": []}, "r.json", strict=False)
    assert got == Record({"a": Item(1, 2.0)}, [Item(3)])
    assert from_dict(Record, {"by_task": None, "items": []}).by_task is None
    with pytest.raises(ValueError, match=r"r.json.items\[0\].index: expected int"):
        from_dict(Record, {"by_task": None, "items": [{"index": "x"}]}, "r.json")
    with pytest.raises(ValueError, match="unknown field"):
        from_dict(Record, {"by_task": None, "items": [], "more": 1}, "r.json")


def test_unknown_fields_and_bad_values_name_their_path():
    with pytest.raises(ValueError, match=r"config\.collect\.rnd: unknown field\(s\) \['size'\]"):
        from_dict(ExperimentConfig, {"collect": {"rnd": {"size": 3}}}, "config")
    with pytest.raises(ValueError, match=r"config\.fb: .*discount=1\.5"):
        from_dict(ExperimentConfig, {"fb": {"discount": 1.5}}, "config")
    with pytest.raises(ValueError, match=r"config\.train: expected a mapping"):
        from_dict(ExperimentConfig, {"train": 5}, "config")


def test_the_control_arm_needs_the_arm_whose_angle_it_matches():
    from fbjax.pipeline.config import EvalConfig

    with pytest.raises(ValueError, match="zol_control turns z_r through the angle zol_published"):
        EvalConfig(methods="fb,zol_control")
    with pytest.raises(ValueError, match="control_draws must be >= 1, got 0"):
        EvalConfig(methods="fb,zol_published,zol_control", control_draws=0)
    assert "zol_control" in EvalConfig().chosen  # in the default methods, with zol_published


def test_round_trip_through_json_dicts():
    config = experiment_config({"domain": "walker", "seeds": [0, 1]})
    assert from_dict(ExperimentConfig, to_dict(config)) == config
    assert to_dict(config)["seeds"] == [0, 1]


def test_differences_name_each_leaf_with_both_values():
    saved = {"fb": {"z_dim": 8, "lr": 1e-3}, "seeds": [0], "gone": 1}
    now = {"fb": {"z_dim": 6, "lr": 1e-3}, "seeds": (0,), "new": 2}
    assert differences(saved, now) == ["fb.z_dim: 8 -> 6", "gone: 1 -> (absent)",
                                       "new: (absent) -> 2"]
    assert differences(saved, saved) == []


def test_every_experiment_config_builds_and_the_default_is_the_maze():
    """Every pipeline config in experiments/configs builds its typed tree (a config that no
    longer matches the dataclasses fails here, not at the start of a long run; ratio_accuracy*
    have their own type, read by studies.ratio_accuracy), and the main command's default is
    the point-mass maze, normalised by its navigator."""
    import glob
    import importlib
    import os

    from absl import flags

    from experiments import common

    names = [os.path.basename(p)[:-3] for p in glob.glob(os.path.join(common.CONFIGS, "*.py"))]
    assert {"point_mass", "point_mass_maze", "walker", "tiny"} <= set(names)
    for name in sorted(n for n in names if n != "__init__" and not n.startswith("ratio_")):
        experiment_config(importlib.import_module(f"experiments.configs.{name}")
                          .get_config().to_dict())
    default = flags.FLAGS["config"].config_filename
    assert default == os.path.join(common.CONFIGS, "point_mass_maze.py")
    typed = experiment_config(importlib.import_module("experiments.configs.point_mass_maze")
                              .get_config().to_dict())
    assert typed.domain == "point_mass_maze" and "navigator" in typed.eval.chosen


def test_a_refusal_raised_in_a_worker_process_counts_as_ours():
    """train.parallel="cores" trains in worker processes; multiprocessing re-raises their errors
    with the worker's traceback as text: the refusal line is judged on that traceback's last
    frame (our code: one line; a library's: the traceback stays)."""
    from multiprocessing.pool import RemoteTraceback

    from experiments import common

    def raised_in(filename: str) -> ValueError:
        error = ValueError("a refusal")
        error.__cause__ = RemoteTraceback(
            f'Traceback (most recent call last):\n  File "{common.HERE}/train.py", line 1, in '
            f'main\n  File "{filename}", line 9, in f\nValueError: a refusal\n')
        return error

    assert common._raised_by_us(raised_in(common._OURS[0] + "data/store.py"))
    assert common._raised_by_us(raised_in(common._STUDIES + "/process_layouts/__main__.py"))
    assert not common._raised_by_us(raised_in("/usr/lib/python3/site-packages/jax/core.py"))


def test_the_console_scripts_run_the_binaries_from_any_directory(tmp_path):
    """`fbjax-report` (pyproject's [project.scripts]) is `python -m experiments.report`, started
    from a folder outside the clone: its refusal of an empty workdir is the binary's one line."""
    import os
    import shutil
    import subprocess

    from fbjax import cli

    assert cli._checkout() == os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = shutil.which("fbjax-report")
    assert script, "fbjax-report is not installed: pip install -c constraints.txt -e '.[test]'"
    proc = subprocess.run([script, f"--config.workdir={tmp_path / 'empty'}"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "fbjax: refused: report: no " in proc.stderr and "Traceback" not in proc.stderr
