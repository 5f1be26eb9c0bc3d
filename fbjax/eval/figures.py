"""The report's figures (SPEC section 7) from `fbjax.eval.report.summarize`'s summary: a bar per
method and task with its bootstrap CI, the tested contrasts to fb with their t intervals, and the
off-policy estimates against the true discounted returns."""

import os

import numpy as np

from fbjax.eval.claims import BASELINE
from fbjax.eval.zero_shot import METHODS


def _bars(ax_row, summary: dict) -> None:
    per_task = summary["per_task"]
    for ax, task in zip(ax_row, summary["tasks"], strict=True):
        present = [m for m in summary["methods"] if (task, m) in per_task]
        r = [per_task[(task, m)]["return"] for m in present]
        ax.bar(range(len(present)), [s["mean"] for s in r], yerr=_error_bars(r), capsize=3,
               color=[f"C{METHODS.index(m)}" for m in present])
        ax.set_xticks(range(len(present)), present, rotation=45, ha="right")
        ax.set_title(task, fontsize=9)
    ax_row[0].set_ylabel("episode return (95% CI)")


def _error_bars(intervals: list[dict]) -> list[list[float]]:
    return [[s["mean"] - s["lo"] for s in intervals], [s["hi"] - s["mean"] for s in intervals]]


def _differences(ax, summary: dict, compared: list[str]) -> None:
    tasks, width = summary["tasks"], 0.8 / len(compared)
    for i, m in enumerate(compared):
        d = [summary["diffs"].get((t, m)) for t in tasks]
        ax.errorbar(np.arange(len(tasks)) + i * width, [s["mean"] for s in d],
                    yerr=_error_bars(d), fmt="o", capsize=3, color=f"C{METHODS.index(m)}",
                    label=m)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(tasks)) + 0.4 - width / 2, tasks, rotation=30, ha="right")
    ax.set_ylabel(f"return − {BASELINE} (tested over seeds, 95% t CI)")
    ax.legend(fontsize=8)


def _scatter(ax, summary: dict) -> None:
    points = [(s["discounted"]["mean"], s["ope_ratio"], s["ope_fb_value"])
              for s in summary["per_task"].values() if "ope_ratio" in s]
    if points:
        true, ratio, value = zip(*points, strict=True)
        ax.scatter(true, ratio, label="J_hat (free ratio)", s=18)
        ax.scatter(true, value, label="FB value", s=18, marker="x")
        hi = max(max(true), max(ratio), max(value), 1e-3)
        lo = min(min(true), min(ratio), min(value), 0.0)
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.legend(fontsize=8)
    ax.set_xlabel("true discounted return")
    ax.set_ylabel("estimate")


def figures(summary: dict, directory: str) -> list[str]:
    """bars.png (one panel per task, one bar per method with its bootstrap CI), differences.png
    (paired differences to fb with CIs) and scatter.png (estimated vs true discounted return)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def save(fig, name):
        fig.tight_layout()
        saved.append(os.path.join(directory, name))
        fig.savefig(saved[-1], dpi=110)
        plt.close(fig)

    saved, tasks = [], summary["tasks"]
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.2 * len(tasks), 3.4), squeeze=False)
    _bars(axes[0], summary)
    save(fig, "bars.png")
    compared = sorted({m for (_, m) in summary["diffs"]}, key=METHODS.index)
    if compared:
        fig, ax = plt.subplots(figsize=(1.4 * len(tasks) * len(compared) ** 0.5 + 3, 3.4))
        _differences(ax, summary, compared)
        save(fig, "differences.png")
    fig, ax = plt.subplots(figsize=(4.2, 4))
    _scatter(ax, summary)
    save(fig, "scatter.png")
    return saved
