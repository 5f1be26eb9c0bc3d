"""The report's figures on the hand-made rows of test_report: what each panel draws, and that
every figure is written as PNG and PDF."""

import dataclasses
import os

import matplotlib
import numpy as np
import pytest

from fbjax.eval import figures
from fbjax.eval.report import summarize
from tests.test_report import _rows

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(scope="module")
def summary():
    return summarize(_rows(), reps=300)


def test_scores_are_percentages_of_the_tasks_oracle_on_one_axis(summary):
    """Task a's oracle (td3) earns 200 per episode: fb's mean 41 is 20.5%, zol_selected's 46 is
    23%, random's 0 is 0%; task b has no oracle and is not on the axis."""
    fig, ax = plt.subplots()
    figures._scores(ax, summary)
    heights = {bar.get_label(): [p.get_height() for p in bar.patches] for bar in ax.containers
               if hasattr(bar, "patches")}
    plt.close(fig)
    assert heights["fb"] == pytest.approx([20.5])
    assert heights["zol_selected"] == pytest.approx([23.0])
    assert heights["random"] == pytest.approx([0.0])
    assert "td3" not in heights  # the oracle is the 100% line, not a bar
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a"]


def test_differences_leave_out_the_oracle_and_random(summary, tmp_path):
    written = figures.figures(summary, str(tmp_path))
    names = sorted(os.path.basename(p) for p in written)
    stems = {n.rsplit(".", 1)[0] for n in names}
    assert stems == {"scores", "returns", "differences", "scatter", "intervals", "improvement"}
    assert all(f"{s}.{ext}" in names for s in stems for ext in ("png", "pdf"))
    with open(tmp_path / "scores.pdf", "rb") as f:
        assert f.read(5) == b"%PDF-"
    fig, ax = plt.subplots()
    figures._differences(ax, summary, ["zol_selected"])
    labels = ax.get_legend_handles_labels()[1]
    plt.close(fig)
    assert labels == ["zol_selected"]
    claim = summary.diffs[("a", "zol_selected")]
    tested = {**summary.diffs, ("a", "td3"): claim, ("a", "random"): claim}
    assert figures.drawn_differences(dataclasses.replace(summary, diffs=tested)) == [
        "zol_selected"]


def test_the_scatter_marks_task_and_method_and_gives_the_rank_correlation(summary):
    fig, axes = plt.subplots(1, 2)
    figures._scatter(axes, summary)
    title = axes[0].get_title()
    labels = [t.get_text() for t in axes[1].get_legend().get_texts()]
    points = [c.get_offsets() for c in axes[0].collections if len(c.get_offsets())]
    plt.close(fig)
    assert labels == ["a", "b", "fb", "zol_selected"]
    assert f"Spearman {1 / np.sqrt(5):.2f} pooled" in title
    # One point per (task, FB method) at (true discounted mean, J_hat): fb on a is (20.5, 2).
    assert any(np.allclose(p, [[20.5, 2.0]]) for p in points)
