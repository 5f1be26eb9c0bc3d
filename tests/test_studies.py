"""The research studies (studies/NAME/): each runs as `python -m studies.NAME`, has a README with
that command and committed results; the two cheapest run end to end here on tiny settings."""

import glob
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUDIES = os.path.join(ROOT, "studies")
NAMES = sorted(d for d in os.listdir(STUDIES) if os.path.isdir(os.path.join(STUDIES, d))
               and not d.startswith(("_", ".")))


def test_the_studies_are_the_ones_the_index_lists():
    index = open(os.path.join(STUDIES, "README.md")).read()
    assert len(NAMES) >= 9
    for name in NAMES:
        assert f"[{name}]({name}/README.md)" in index, name


@pytest.mark.parametrize("name", NAMES)
def test_a_study_has_its_command_readme_and_results(name):
    folder = os.path.join(STUDIES, name)
    assert os.path.isfile(os.path.join(folder, "__main__.py")), name
    readme = open(os.path.join(folder, "README.md")).read()
    assert f"python -m studies.{name}" in readme, name
    results = os.path.join(folder, "results")
    assert os.listdir(results), f"{name}: no committed results"
    # Every results file (or pattern) the README names is committed.
    for word in readme.replace("(", " ").replace(")", " ").replace("`", " ").split():
        if word.startswith("results/"):
            assert _committed(folder, word.rstrip(".,;:")), (name, word)


def _committed(folder: str, pattern: str) -> bool:
    """A path, a glob, or a glob with one {a,b} alternation, matching at least one file."""
    head, brace, rest = pattern.partition("{")
    options, _, tail = rest.partition("}")
    patterns = [head + o + tail for o in options.split(",")] if brace else [pattern]
    return all(glob.glob(os.path.join(folder, p)) for p in patterns)


def _run(args):
    proc = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_cpu_stall_reports_a_rollout_that_finishes(tmp_path):
    out = tmp_path / "stall.json"
    _run(["studies.cpu_stall", "--domain=point_mass", "--sizes=4x10", "--trials=1",
          f"--out={out}"])
    record = json.loads(out.read_text())
    (row,) = record["trials"]
    assert row["outcome"] == "finished" and row["cpu_s"] > 0, row
    assert record["provenance"]["command"].startswith("python -m studies.cpu_stall ")


def test_dynamics_drift_separates_the_model_from_mjx(tmp_path):
    """On point mass (no contacts) MJX follows MuJoCo C on the same model to float32 precision,
    and DM Control against itself with velocities moved by 1e-6 stays within about 1e-6."""
    stem = tmp_path / "drift"
    _run(["studies.dynamics_drift", "--domains=point_mass", "--episodes=2", "--steps=10",
          f"--out={stem}"])
    (row,) = json.loads((tmp_path / "drift.json").read_text())["rows"]
    sims = row["simulations"]
    assert sims["chaos"]["rms_qpos_at_10"] < 1e-5
    # qpos within +-0.3 m in float32: a few ulps of 0.3 (3e-8 each) per step, far below 1e-5
    assert row["mjx_vs_model_c"]["rms_qpos_at_10"] < 1e-5
    assert row["fbjax_solver"][0] < row["dm_control_solver"][0] == 100
    assert "point_mass" in (tmp_path / "drift.md").read_text()
