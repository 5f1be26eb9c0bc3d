"""experiments.train end to end on the tiny config: smoke test and resume in a fresh process."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from experiments.configs import tiny
from fbjax.pipeline.config import experiment_config
from fbjax.pipeline.tabular import build_mdp, make_agent
from fbjax.train import Checkpointer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(workdir, *overrides, check=True):
    cmd = [sys.executable, "-m", "experiments.train",
           f"--config={os.path.join(ROOT, 'experiments', 'configs', 'tiny.py')}",
           f"--config.workdir={workdir}", *overrides]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"train.py failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def _final_state(workdir):
    config = experiment_config(tiny.get_config().to_dict())
    mdp = build_mdp(config.env)
    agent = make_agent(mdp, config.fb, "control")
    ckpt = Checkpointer(os.path.join(workdir, "control"))
    state, _ = ckpt.restore(agent.init(jax.random.PRNGKey(0)))
    return state


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_smoke_both_phases(tmp_path):
    proc = _run(tmp_path / "run")
    out = proc.stdout
    assert "steps/s" in out and "ETA" in out and "fb_loss" in out
    assert "policy evaluation (20 steps): mean TV" in out
    assert "mean success" in out
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert [r["phase"] for r in results] == ["policy_eval", "control"]
    # 20 steps of a tiny model are far from exact, but TV is a mean of per-row distances in [0, 1]
    # and the per-z values average to it.
    assert 0.0 < results[0]["tv_mean"] <= 1.0
    assert abs(np.mean(results[0]["tv_per_z"]) - results[0]["tv_mean"]) < 1e-9
    assert (tmp_path / "run" / "control" / "metrics" / "metrics.jsonl").exists()
    saved = json.loads((tmp_path / "run" / "control" / "config.json").read_text())
    assert saved["fb"]["z_dim"] == tiny.get_config().fb.z_dim


@pytest.mark.slow  # three training processes
def test_resume_in_a_fresh_process_matches_an_uninterrupted_run(tmp_path):
    only_control = "--config.policy_eval_steps=0"
    _run(tmp_path / "straight", only_control, "--config.train.num_steps=40")
    _run(tmp_path / "resumed", only_control, "--config.train.num_steps=20")
    proc = _run(tmp_path / "resumed", only_control, "--config.train.num_steps=40")
    assert "resumed from step 20" in proc.stdout
    straight, resumed = _final_state(tmp_path / "straight"), _final_state(tmp_path / "resumed")
    assert int(straight.step) == int(resumed.step) == 40
    for a, b in zip(jax.tree.leaves(straight), jax.tree.leaves(resumed), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow  # two training processes
def test_resume_refuses_another_config(tmp_path):
    only_control = "--config.policy_eval_steps=0"
    _run(tmp_path / "run", only_control)
    proc = _run(tmp_path / "run", only_control, "--config.fb.z_dim=6", check=False)
    assert proc.returncode != 0 and "fb.z_dim: 8 -> 6" in proc.stderr


@pytest.mark.parametrize("override,message", [
    ("--config.env.name=maze", "unknown finite MDP 'maze'"),
    ("--config.fb.discount=1.0", "discount=1.0"),
    ("--config.fb.lr_f=1e-4", "config.fb has no field 'lr_f'; its fields are ["),
])
def test_bad_config_gives_one_clear_error(tmp_path, override, message):
    proc = _run(tmp_path / "bad", override, check=False)
    assert proc.returncode != 0 and message in proc.stderr
    # One line, not a traceback: the refusal is the user's to fix, not a bug to report.
    assert "fbjax: refused:" in proc.stderr and "Traceback" not in proc.stderr
    assert not os.path.exists(tmp_path / "bad" / "control")
