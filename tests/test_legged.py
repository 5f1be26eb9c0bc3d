"""The quadruped end to end at smoke-test size: collect with noise, train FB for 200 updates,
evaluate FB on every task (experiments/configs/tiny_quadruped.py)."""

import json
import math
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow  # a full pipeline on the quadruped
def test_tiny_quadruped_pipeline_runs_every_stage(tmp_path):
    config = os.path.join(ROOT, "experiments", "configs", "tiny_quadruped.py")
    proc = subprocess.run([sys.executable, "-m", "experiments.pipeline", f"--config={config}",
                           f"--config.workdir={tmp_path}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "pipeline finished" in proc.stdout
    with open(tmp_path / "dataset" / "manifest.json") as f:
        assert sum(shard["rows"] for shard in json.load(f)["shards"]) == 4 * 50
    with open(tmp_path / "fb" / "seed_0" / "metrics" / "metrics.jsonl") as f:
        steps = [json.loads(line)["step"] for line in f if line.strip()]
    assert max(steps) == 200
    with open(tmp_path / "eval" / "results.json") as f:
        rows = json.load(f)["rows"]
    assert {(r["task"], r["method"]) for r in rows} == {
        (task, "fb") for task in ("stand", "walk", "run", "jump")}
    for row in rows:
        assert len(row["returns"]) == 2 and all(math.isfinite(x) for x in row["returns"])
