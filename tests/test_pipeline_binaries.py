"""Every MJX binary end to end on the tiny point-mass config, in one workdir, plus the report's
figures and the refusals a user can hit."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # every binary in its own process on a full tiny pipeline

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(ROOT, "experiments", "configs", "tiny_point_mass.py")


def _run(binary, workdir, *overrides, check=True):
    """Runs experiments.BINARY, or the module BINARY names when it is dotted (a study)."""
    module = binary if "." in binary else f"experiments.{binary}"
    cmd = [sys.executable, "-m", module, f"--config={TINY}",
           f"--config.workdir={workdir}", *overrides]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"{binary} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny_pipeline")
    proc = _run("pipeline", path)
    assert "pipeline finished" in proc.stdout and "| task |" in proc.stdout
    return path


def test_pipeline_writes_every_stage(workdir):
    for part in ("dataset/manifest.json", "fb/seed_0/config.json", "oracle/seed_0/config.json",
                 "fb/seed_0/metrics/metrics.jsonl", "eval/results.json",
                 "report/results.md", "report/scatter.png", "report/scatter.pdf"):
        assert os.path.exists(workdir / part), part
    # Oracle-normalised scores where a task has an oracle, raw returns where one has none.
    assert any(os.path.exists(workdir / "report" / f"{name}.png") for name in ("scores",
                                                                             "returns"))
    with open(workdir / "eval" / "results.json") as f:
        rows = json.load(f)["rows"]
    methods = {r["method"] for r in rows}
    assert methods == {"fb", "zol_grid_0", "zol_grid_1", "zol_published", "zol_selected",
                       "zol_control", "rwr", "td3", "random"}
    assert len(rows) == 5 * 9 * 2  # 5 tasks x 9 row kinds x 2 seeds
    for row in rows:
        assert len(row["returns"]) == 2  # eval.num_episodes in the tiny config
        assert ("ope_ratio" in row) == (row["method"] not in ("td3", "random", "zol_control"))
        if row["method"] == "zol_control":  # turned by zol_published's angle, 3 draws averaged
            published = next(r for r in rows if r["method"] == "zol_published"
                             and (r["seed"], r["task"]) == (row["seed"], row["task"]))
            if np.isfinite(published["zol_cos_z0"]):  # NaN: z_r = 0, nothing rewarded
                assert row["control_cos_z0"] == pytest.approx(published["zol_cos_z0"],
                                                              abs=1e-5)
            assert np.isfinite(row["returns"]).all()
            assert row["control_draws"] == 3
    with open(workdir / "eval" / "results.json") as f:
        result = json.load(f)
    selection = result["selection"]
    assert result["complete"] and result["seeds"] == result["seeds_planned"] == [0, 1]
    assert set(selection) == {"reach_top_left", "reach_top_right", "reach_bottom_left",
                              "reach_bottom_right", "loop"}
    # Each seed's inference sample: a count per task, no larger than the sample.
    counts = result["rewarded_in_inference_sample"]
    assert set(counts) == {"0", "1"} and all(set(c) == set(selection) for c in counts.values())
    samples = result["eval"]["inference_samples"]
    assert all(0 <= n <= samples for c in counts.values() for n in c.values())
    table = (workdir / "report" / "results.md").read_text()
    for part in ("How every inference setting was chosen", "pre-registered", "tested over seeds",
                 "zol_published − zol_control", "Holm p", "Primary endpoint",
                 "hierarchical-bootstrap", "ZOL diagnostics", "reach_top_left",
                 "Rewarded transitions (reward >= 0.1 x the task's largest"):
        assert part in table, part
    assert os.path.exists(workdir / "report" / "differences.png")
    assert os.path.exists(workdir / "report" / "differences.pdf")


def _digests(workdir):
    from fbjax.data.store import load_dataset
    from fbjax.pipeline.tabular import params_digest
    from fbjax.train.run import load_fb

    out = {"dataset": params_digest(load_dataset(str(workdir / "dataset")).arrays())}
    for seed in (0, 1):
        _, state, _ = load_fb(str(workdir / "fb" / f"seed_{seed}"))
        out[f"fb_{seed}"] = params_digest(state.params)
    return out


def test_a_pipeline_killed_in_training_reruns_to_the_uninterrupted_results(workdir, tmp_path):
    """The fault suite's kill point (tests/faults/injection.py): SIGKILLed half a second into
    training, then run again, the pipeline must finish with exactly this module's uninterrupted
    run's rows and tables, and leave a workdir the validator accepts.

    It is also the determinism test: the same command and seeds, in other processes and another
    workdir, must collect the same dataset and train bit-identical FB parameters (the killed
    process collected the dataset, its rerun trained and evaluated)."""
    from tests.faults import injection

    killed = tmp_path / "killed"
    case = injection.kill_point(killed, "train", 0.5, injection.outcome(workdir))
    assert case["killed"] and case["ok"], case
    assert _digests(killed) == _digests(workdir)
    first = (workdir / "eval" / "results.json").read_text().replace(str(workdir), "WORKDIR")
    second = (killed / "eval" / "results.json").read_text().replace(str(killed), "WORKDIR")
    assert first == second  # the whole file: rows, ZOL selection, counts, settings


def test_a_moved_workdir_resumes_and_keeps_its_stages(workdir, tmp_path):
    """Run configs record the dataset relative to the workdir, so a copied workdir is the same
    run: the dataset is kept, every run resumes at its last step (no retraining, no refusal)
    and the table is unchanged."""
    import shutil

    moved = tmp_path / "moved"
    shutil.copytree(workdir, moved, ignore=shutil.ignore_patterns(".lock"))
    again = _run("pipeline", moved)
    assert "other settings" not in again.stderr  # before: "dataset: '/old/dataset' -> ..."
    assert "already holds this collection" in again.stdout
    # Each finished run is resumed at its last step: nothing is retrained.
    assert again.stdout.count("resumed from step 20 in") == 4, again.stdout[-3000:]
    first = (workdir / "report" / "results.md").read_text().replace(str(workdir), "WORKDIR")
    second = (moved / "report" / "results.md").read_text().replace(str(moved), "WORKDIR")
    assert first == second


def test_ope_validation_binary_on_the_tiny_run(workdir, tmp_path):
    out = tmp_path / "ope"
    # 4 FQE policies (the study's default is 24): FQE's own accuracy is tests/test_fqe.py's.
    proc = _run("studies.ope_validation", workdir, "--episodes=2", "--fqe_policies=4",
                "--fqe_steps=1000", f"--out={out}")
    assert "written to" in proc.stdout
    with open(out / "ope_validation.json") as f:
        report = json.load(f)
    assert report["num_policies"] >= 200 and report["provenance"]["commit"]
    assert set(report["summary"]["spearman_mean"]) >= {"fb_value", "raw", "linear_clip20"}
    assert all(len(r["fqe"]["policies"]) == 4 for r in report["per_seed"])  # every seed
    ceiling = report["per_seed"][0]["noise_ceiling"]
    assert len(ceiling["ceiling"]) == len(report["tasks"]) == 5
    assert "Noise ceiling per reward" in (out / "ope_validation.md").read_text()
    for name in ("ope_validation.md", "scatter.png", "spearman.png"):
        assert os.path.exists(out / name), name


def test_exported_models_are_evaluated_without_training(workdir, tmp_path):
    """experiments.export writes every seed's inference checkpoint; a pipeline given them
    (--config.fb_from) trains nothing and evaluates them, and refuses them for another model."""
    models = tmp_path / "models"
    exported = _run("export", workdir, f"--out={models}")
    assert exported.stdout.count("[export] seed ") == 2
    assert sorted(os.listdir(models)) == ["seed_0", "seed_1"]
    other = tmp_path / "other"
    other.mkdir()
    os.symlink(workdir / "dataset", other / "dataset")
    flags = (f"--config.fb_from={models}", "--config.eval.methods=fb,random",
             "--config.eval.tasks=reach_top_left")
    done = _run("pipeline", other, *flags)
    assert "nothing to train" in done.stdout and not os.path.exists(other / "fb")
    rows = json.loads((other / "eval" / "results.json").read_text())["rows"]
    assert {(r["seed"], r["method"]) for r in rows} == {(s, m) for s in (0, 1)
                                                        for m in ("fb", "random")}
    wrong = _run("evaluate", other, *flags, "--config.fb.z_dim=12", check=False)
    assert wrong.returncode != 0 and "is another model" in wrong.stderr
    assert "fb.z_dim" in wrong.stderr and "Traceback" not in wrong.stderr
    untrained = _run("export", other, f"--out={tmp_path / 'none'}", check=False)
    assert untrained.returncode != 0 and "no FB run for seed(s) [0, 1]" in untrained.stderr
    assert not os.path.exists(tmp_path / "none")


def test_sweep_of_zol_settings_runs_as_one_program(workdir):
    proc = _run("sweep", workdir, "--sweep=eval.zol.lr=0.001,0.01",
                "--sweep=eval.zol.chi2_coef=0,0.1")
    assert "4 settings x 5 tasks in one program" in proc.stdout
    text = (workdir / "sweep" / "sweep.md").read_text()
    assert "| eval.zol.lr=0.01, eval.zol.chi2_coef=0.1 |" in text
    assert text.count("\n| eval.zol.lr=") == 4


def test_stage_binaries_and_resume(workdir):
    # Each stage binary on its own, over the finished pipeline's workdir.
    assert "keeping it" in _run("collect", workdir).stdout
    trained = _run("train", workdir, "--config.train.num_steps=30")
    assert "[train] resumed from step 20" in trained.stdout
    # Both seeds in one program, resuming the runs trained one by one.
    together = _run("train", workdir, "--config.train.num_steps=40",
                    "--config.train.parallel=seeds")
    assert "2 seeds [0, 1] in one program (on one device), from step 30" in together.stdout
    assert together.stdout.count("[train] resumed from step 30") == 2
    oracles = _run("train", workdir, "--what=oracle")
    assert oracles.stdout.count("[oracle] resumed from step") == 2
    evaluated = _run("evaluate", workdir, "--config.eval.methods=fb,random",
                     "--config.eval.tasks=loop,reach_top_left")
    assert "rows written" in evaluated.stdout
    rows = json.loads((workdir / "eval" / "results.json").read_text())["rows"]
    assert [(r["task"], r["method"]) for r in rows if r["seed"] == 0] == [
        ("loop", "fb"), ("reach_top_left", "fb"), ("loop", "random"), ("reach_top_left", "random")]
    report = _run("report", workdir)
    assert "| task | fb | random |" in report.stdout


def test_refusals_name_the_problem(tmp_path, workdir):
    other = _run("train", workdir, "--config.fb.z_dim=12", check=False)
    assert other.returncode != 0 and "other settings" in other.stderr
    missing = _run("train", tmp_path / "empty", check=False)
    assert missing.returncode != 0 and "no dataset" in missing.stderr
    assert "run python -m experiments.collect" in missing.stderr
    assert "Traceback" not in missing.stderr and "fbjax: refused:" in missing.stderr
    bad = _run("evaluate", workdir, "--config.eval.methods=fb,sac", check=False)
    assert bad.returncode != 0 and "unknown ['sac']" in bad.stderr
    assert "Traceback" not in bad.stderr
    # Runs with fewer updates than the config asks for (e.g. stopped by train.max_seconds).
    short = _run("evaluate", workdir, "--config.train.num_steps=100000",
                 "--config.eval.methods=fb,random", check=False)
    assert short.returncode != 0 and "of the config's 100000 steps" in short.stderr
    assert "evaluate the steps it has with --config.train.num_steps=" in short.stderr
    tiny_tabular = os.path.join(ROOT, "experiments", "configs", "tiny.py")
    tabular = subprocess.run([sys.executable, "-m", "experiments.collect",
                              f"--config={tiny_tabular}"], cwd=ROOT, capture_output=True,
                             text=True, timeout=300)
    assert tabular.returncode != 0 and "finite-MDP config" in tabular.stderr


def test_quickstart_notebook_runs_on_the_tiny_run(workdir, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("FBJAX_RUN", str(workdir))
    monkeypatch.setenv("FBJAX_EPISODES", "2")
    monkeypatch.setenv("FBJAX_EPISODE_LENGTH", "20")
    notebook = nbformat.read(os.path.join(ROOT, "examples", "quickstart.ipynb"), as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": ROOT}}).execute()
    printed = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for out in cell.get("outputs", []))
    assert "J_hat" in printed and "reach_top_left return" in printed
    assert "near (0.1,-0.2) return" in printed  # the reward prompt scored on its own reward


def test_development_seeds_are_named_and_left_out_of_the_tables(workdir, tmp_path):
    """With eval.selection_seeds=[0] the report shows test seed 1 alone and names seed 0 as the
    development seed that chose zol_selected's settings."""
    from fbjax.pipeline.config import ExperimentConfig
    from fbjax.pipeline.mjx_report import report

    result = json.loads((workdir / "eval" / "results.json").read_text())
    result["eval"]["selection_seeds"] = [0]
    os.makedirs(tmp_path / "eval")
    (tmp_path / "eval" / "results.json").write_text(json.dumps(result))
    table = report(ExperimentConfig(workdir=str(tmp_path), seeds=(0, 1)))
    assert "Test seeds [1] (development seeds [0], which chose zol_selected's settings" in table
    assert "over the development seeds [0] alone" in table
    assert "resampling the 1 training seeds" in table


def test_a_cut_short_evaluation_is_reported_as_partial(workdir, tmp_path):
    """results.json is rewritten after each seed; the report of one that stopped after seed 0
    says so and uses that seed alone."""
    from fbjax.pipeline.config import ExperimentConfig
    from fbjax.pipeline.mjx_report import report

    result = json.loads((workdir / "eval" / "results.json").read_text())
    result.update(seeds=[0], complete=False,
                  rows=[r for r in result["rows"] if r["seed"] == 0])
    os.makedirs(tmp_path / "eval")
    (tmp_path / "eval" / "results.json").write_text(json.dumps(result))
    table = report(ExperimentConfig(workdir=str(tmp_path)))
    assert "**Partial evaluation**: it stopped after seeds [0] of [0, 1]" in table
    assert "Training seeds [0]" in table
