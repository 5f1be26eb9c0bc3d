"""Sharded training on 4 fake CPU devices, in a separate process (the device count is fixed when
jax starts)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_sharded_step_and_scan_equal_single_device_and_shards_are_disjoint():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    proc = subprocess.run([sys.executable, "-m", "tests.multidevice_check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["max_param_diff"] <= 1e-6 and result["max_scan_param_diff"] <= 1e-6


def test_sharded_step_benchmark_smoke():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "sharded_step.py"),
                           "--devices=1,2", "--hidden=16", "--batch=8", "--steps=2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [r["devices"] for r in row["runs"]] == [1, 2]
    rates = [r["updates_per_s"] for r in row["runs"]]
    assert row["ratio_to_first"] == [round(r / rates[0], 3) for r in rates]
