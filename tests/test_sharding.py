"""Sharded training on 4 fake CPU devices, in a separate process (the device count is fixed when
jax starts)."""

import json
import os
import shutil
import subprocess
import sys

import jax
import numpy as np
import pytest

from fbjax.train import load_fb

pytestmark = pytest.mark.slow  # four-device runs, each in a process of its own

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_POINT_MASS = os.path.join(ROOT, "experiments", "configs", "tiny_point_mass.py")


def test_sharded_step_and_scan_equal_single_device_and_shards_are_disjoint():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    proc = subprocess.run([sys.executable, "-m", "tests.multidevice_check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["max_param_diff"] <= 1e-6 and result["max_scan_param_diff"] <= 1e-6
    assert result["max_seed_split_diff"] <= 1e-6  # seeds split over the 4 devices


def test_sharded_step_benchmark_smoke():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "sharded_step.py"),
                           "--devices=1,2", "--hidden=16", "--batch=8", "--steps=2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [r["devices"] for r in row["runs"]] == [1, 2]
    rates = [r["updates_per_s"] for r in row["runs"]]
    assert row["ratio_to_first"] == [round(r / rates[0], 3) for r in rates]


def _train(workdir, *flags, env=None):
    cmd = [sys.executable, "-m", "experiments.train", f"--config={TINY_POINT_MASS}",
           f"--config.workdir={workdir}", *flags]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def test_sharded_point_mass_training_follows_the_single_device_run(tmp_path):
    """The MJX data path end to end: experiments.train with parallel=sharded on 4 fake devices
    against the single-device run on the same dataset; parameters after the first 10 and 20
    steps agree to 1e-6 (float32 rounding of differently partitioned sums, far below the
    ~3e-4 (the learning rate) a single Adam step moves them)."""
    collect = subprocess.run([sys.executable, "-m", "experiments.collect",
                              f"--config={TINY_POINT_MASS}", f"--config.workdir={tmp_path / 'a'}"],
                             cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert collect.returncode == 0, collect.stderr[-3000:]
    shutil.copytree(tmp_path / "a" / "dataset", tmp_path / "b" / "dataset")
    single = _train(tmp_path / "a")
    four = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    sharded = _train(tmp_path / "b", "--config.train.parallel=sharded", env=four)
    assert "one after another, each on one device" in single
    assert "one after another, each data-parallel over 4 devices of 1 process(es)" in sharded
    for step in (10, 20):
        _, a, _ = load_fb(str(tmp_path / "a" / "fb" / "seed_0"), step)
        _, b, _ = load_fb(str(tmp_path / "b" / "fb" / "seed_0"), step)
        worst = max(float(np.max(np.abs(np.asarray(x) - np.asarray(y))))
                    for x, y in zip(jax.tree.leaves((a.params, a.target_params)),
                                    jax.tree.leaves((b.params, b.target_params)), strict=True))
        assert worst <= 1e-6, (step, worst)
        # Adam's moments grow large (|mu| ~ 30 on some biases). A moment averages gradients,
        # and a gradient's rounding error from partitioning its batch sum scales with the terms
        # summed, i.e. with the leaf's largest entries, not with each entry: so each leaf is held
        # to 1e-6 of its own largest magnitude (a few float32 ulps of it).
        for x, y in zip(jax.tree.leaves(a.opt_state), jax.tree.leaves(b.opt_state), strict=True):
            x, y = np.asarray(x), np.asarray(y)
            scale = max(float(np.max(np.abs(x))), 1.0) if x.size else 1.0
            np.testing.assert_allclose(y, x, rtol=0, atol=1e-6 * scale)
