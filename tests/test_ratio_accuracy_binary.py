"""studies.ratio_accuracy and benchmarks/zol_search.py end to end on tiny settings."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # the binaries in processes of their own

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_ratio_accuracy_smoke(tmp_path):
    cmd = [sys.executable, "-m", "studies.ratio_accuracy",
           f"--config={os.path.join(ROOT, 'experiments', 'configs', 'ratio_accuracy_tiny.py')}",
           f"--config.workdir={tmp_path}"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "ratio_accuracy.json").read_text())["results"]["four_rooms"]
    assert result["num_policies"] == 4
    assert set(result["fb"]) == {f"{s}/{t}" for s in ("init", "data", "mix")
                                 for t in ("linear", "softplus", "exp")}
    # A tiny model after 20 steps is further from d^pi than the exact ratio weighting the same
    # sample (the sampling floor); TV never exceeds 1.
    for row in result["fb"].values():
        assert row["tv_exact_on_sample"] - 1e-9 <= row["tv"] <= 1.0
    assert result["dice_best"] in result["dice"]
    assert "| four_rooms | FB init/exp |" in (tmp_path / "ratio_accuracy.md").read_text()
    assert (tmp_path / "ratio_accuracy.png").stat().st_size > 1000


def test_zol_search_benchmark_smoke(tmp_path):
    cmd = [sys.executable, os.path.join(ROOT, "benchmarks", "zol_search.py"), "--prompts=3",
           "--loop_prompts=2", "--steps=3", "--num-samples=64", "--num-starts=8",
           f"--trace={tmp_path}"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    # the loops ran 2 of the 3 prompts; every figure is per prompt
    assert (row["prompts"], row["loop_prompts"], row["adam_steps"]) == (3, 2, 3)
    assert set(row["s_per_prompt"]) == {"batched", "loop_of_compiled_single", "stepwise_dispatch"}
    per = row["s_per_prompt"]
    np.testing.assert_allclose(row["speedup_vs_stepwise"],
                               per["stepwise_dispatch"] / per["batched"], rtol=1e-6)
    np.testing.assert_allclose(row["speedup_vs_single_loop"],
                               per["loop_of_compiled_single"] / per["batched"], rtol=1e-6)
    # The call's FLOPs are search_flops' count for these sizes (its parts are checked against
    # the whole lowered call in tests/test_benchmarks.py), and achieved TFLOP/s = FLOPs / time
    # (P prompts x the time per prompt), both as printed to 1e-4; no MFU without a known peak.
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import zol_search

    assert row["gflop_per_call"] == round(zol_search.search_flops("small", 3, 3, 64, 8) / 1e9, 4)
    seconds = per["batched"] * row["prompts"]
    assert abs(row["achieved_tflop_s"] - row["gflop_per_call"] / seconds / 1e3) <= \
        0.5e-4 + 0.5e-4 / seconds / 1e3
    assert row["mfu"] is None
    # The trace's summary adds up, every CPU event is classed from the HLO, and each of the 3
    # Adam steps (one call for all 3 prompts) runs at least the 12 forward matmuls of the actor
    # and of F (two towers of two layers, a hidden layer and an output layer each).
    summary = row["trace_summary_per_prompt"]
    kinds = summary["by_kind"]
    assert abs(sum(k["ops"] for k in kinds.values()) - summary["op_events"]) <= 0.5
    assert abs(sum(k["us"] for k in kinds.values()) - summary["op_us"]) <= 0.05
    assert summary["kinds_from_hlo"] == 1.0
    assert kinds["matmul"]["ops"] >= 12 * row["adam_steps"] / row["prompts"]
