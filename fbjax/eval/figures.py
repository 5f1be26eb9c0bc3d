"""The report's figures (SPEC section 7) from `fbjax.eval.report.summarize`'s summary, each as PNG
and PDF:

* scores: every method's return as a percentage of its task's oracle, all tasks on one axis,
  with the hierarchical-bootstrap 95% CI (tasks without an oracle: raw returns, one panel each);
* differences: the learned methods' paired differences to fb, tested over seeds (t intervals),
  without the oracle and random, whose gaps would flatten them;
* scatter: the free ratio's J_hat and FB's own value estimate against the true discounted return,
  one colour per task and one marker per method, with the rank correlations;
* intervals and improvement: rliable's IQM / mean of oracle-normalised scores with stratified
  bootstrap CIs (the oracles left out: they score 1 on themselves), and P(method > fb) of the
  learned methods, drawn with rliable's own plots.
"""

import os

import numpy as np

from fbjax.eval.claims import BASELINE
from fbjax.eval.methods import ORACLES, names
from fbjax.eval.report import ope_rank_correlation, ope_rank_correlation_within_tasks, oracle_of
from fbjax.eval.results import Summary

FORMATS, DPI = ("png", "pdf"), 150
MARKERS = "osD^vP*Xh<>p"


def _color(method: str) -> str:
    """A method's colour, the same in every figure and report: its place in the registry (a
    method registered elsewhere: a stable place after them)."""
    order = names()
    place = order.index(method) if method in order else len(order) + sum(map(ord, method))
    return f"C{place % 10}"


def _error_bars(intervals: list, scale: float = 1.0) -> list[list[float]]:
    return [[(s.mean - s.lo) * scale for s in intervals],
            [(s.hi - s.mean) * scale for s in intervals]]


def _scores(ax, summary: Summary) -> None:
    """% of the oracle per (task, method), tasks side by side on one axis."""
    per_task, tasks = summary.per_task, summary.normalised_tasks
    shown = [m for m in summary.methods if m not in ORACLES]
    width = 0.8 / len(shown)
    for i, m in enumerate(shown):
        at = [j for j, t in enumerate(tasks) if (t, m) in per_task]
        scale = [100.0 / per_task[(tasks[j], oracle_of(per_task, tasks[j]))].ret.mean
                 for j in at]
        stats = [per_task[(tasks[j], m)].ret for j in at]
        means = [s.mean * k for s, k in zip(stats, scale, strict=True)]
        errors = np.array([[(s.mean - s.lo) * k, (s.hi - s.mean) * k]
                           for s, k in zip(stats, scale, strict=True)]).reshape(-1, 2).T
        ax.bar(np.array(at) + (i - (len(shown) - 1) / 2) * width, means, width, yerr=errors,
               capsize=2, color=_color(m), label=m)
    ax.axhline(100.0, color="k", lw=0.8, ls="--")
    ax.set_xticks(range(len(tasks)), tasks, rotation=20, ha="right")
    ax.set_ylabel("return, % of the task's oracle (95% CI)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _raw_returns(ax_row, summary: Summary, tasks: list[str]) -> None:
    per_task = summary.per_task
    for ax, task in zip(ax_row, tasks, strict=True):
        present = [m for m in summary.methods if (task, m) in per_task]
        r = [per_task[(task, m)].ret for m in present]
        ax.bar(range(len(present)), [s.mean for s in r], yerr=_error_bars(r), capsize=3,
               color=[_color(m) for m in present])
        ax.set_xticks(range(len(present)), present, rotation=45, ha="right")
        ax.set_title(f"{task} (no oracle)", fontsize=9)
    ax_row[0].set_ylabel("episode return (95% CI)")


def _differences(ax, summary: Summary, compared: list[str]) -> None:
    tasks, width = summary.tasks, 0.8 / len(compared)
    for i, m in enumerate(compared):
        at = [j for j, t in enumerate(tasks) if (t, m) in summary.diffs]
        d = [summary.diffs[(tasks[j], m)].diff for j in at]
        ax.errorbar(np.array(at) + (i - (len(compared) - 1) / 2) * width,
                    [s.mean for s in d], yerr=_error_bars(d), fmt="o", capsize=3,
                    color=_color(m), label=m)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xticks(range(len(tasks)), tasks, rotation=20, ha="right")
    ax.set_ylabel(f"return − {BASELINE} (over seeds, 95% t CI)")
    ax.legend(fontsize=8)


def drawn_differences(summary: Summary) -> list[str]:
    """The methods whose differences to fb are drawn: the learned ones (an oracle's +860 or
    random's -600 would flatten the ZOL - FB differences the figure is for)."""
    return sorted({m for (_, m) in summary.diffs} - set(ORACLES) - {"random"},
                  key=summary.methods.index)


def _scatter(axes, summary: Summary) -> None:
    rows = [(t, m, s) for (t, m), s in summary.per_task.items() if "ope_ratio" in s.fields]
    tasks = list(dict.fromkeys(t for t, _, _ in rows))
    methods = list(dict.fromkeys(m for _, m, _ in rows))
    pooled, within = ope_rank_correlation(summary), ope_rank_correlation_within_tasks(summary)
    for ax, field, name in zip(axes, ("ope_ratio", "ope_fb_value"),
                               ("J_hat (free ratio)", "FB value"), strict=True):
        for t, m, s in rows:
            ax.scatter(s.discounted.mean, s.fields[field], s=24, color=f"C{tasks.index(t) % 10}",
                       marker=MARKERS[methods.index(m) % len(MARKERS)])
        values = [v for _, _, s in rows for v in (s.discounted.mean, s.fields[field])]
        lo, hi = min(values + [0.0]), max(values + [1e-3])
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_xlabel("true discounted return")
        ax.set_ylabel(name)
    rho = "n/a" if pooled is None else f"{pooled:.2f}"
    mean_within = f"{np.mean(list(within.values())):.2f}" if within else "n/a"
    axes[0].set_title(f"Spearman {rho} pooled, {mean_within} within tasks", fontsize=8)
    handles = ([axes[0].scatter([], [], color=f"C{i % 10}", marker="s", label=t)
                for i, t in enumerate(tasks)]
               + [axes[0].scatter([], [], color="gray", marker=MARKERS[i % len(MARKERS)],
                                  label=m) for i, m in enumerate(methods)])
    axes[1].legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))


def _rliable(summary: Summary, save) -> None:
    """rliable's interval-estimate and probability-of-improvement plots of the aggregates."""
    from rliable import plot_utils

    aggregates = {m: a for m, a in summary.aggregates.items()
                  if m not in ORACLES}  # an oracle scores 1 on itself
    if not aggregates:
        return
    methods = [m for m in summary.methods if m in aggregates]
    colors = {m: _color(m) for m in methods}
    point = {m: np.array([aggregates[m].iqm.mean, aggregates[m].mean.mean]) for m in methods}
    interval = {m: np.array([[aggregates[m].iqm.lo, aggregates[m].mean.lo],
                             [aggregates[m].iqm.hi, aggregates[m].mean.hi]])
                for m in methods}
    fig, _ = plot_utils.plot_interval_estimates(
        point, interval, ["IQM", "mean"], algorithms=methods[::-1], colors=colors,
        xlabel="return / oracle's return", subfigure_width=3.0, row_height=0.4)
    save(fig, "intervals")
    improving = [m for m in methods if aggregates[m].poi and m != "random"][::-1]
    if improving:
        pairs = {f"{m},{BASELINE}": np.array([aggregates[m].poi.mean]) for m in improving}
        cis = {f"{m},{BASELINE}": np.array([[aggregates[m].poi.lo], [aggregates[m].poi.hi]])
               for m in improving}
        ax = plot_utils.plot_probability_of_improvement(
            pairs, cis, figsize=(4.5, 0.5 * len(improving) + 1.2),
            colors=[_color(m) for m in improving],  # rliable indexes them by row
            ticklabelsize="medium", labelsize="medium")
        save(ax.figure, "improvement")


def figures(summary: Summary, directory: str) -> list[str]:
    """Writes the figures of the module docstring to `directory` (PNG and PDF of each); returns
    the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    saved = []

    def save(fig, name):
        fig.tight_layout()
        for ext in FORMATS:
            saved.append(os.path.join(directory, f"{name}.{ext}"))
            fig.savefig(saved[-1], dpi=DPI, bbox_inches="tight")
        plt.close(fig)

    tasks, normalised = summary.tasks, summary.normalised_tasks
    if normalised:
        fig, ax = plt.subplots(figsize=(1.8 * len(normalised) + 3, 3.8))
        _scores(ax, summary)
        save(fig, "scores")
    raw = [t for t in tasks if t not in normalised]
    if raw:
        fig, axes = plt.subplots(1, len(raw), figsize=(3.2 * len(raw), 3.4), squeeze=False)
        _raw_returns(axes[0], summary, raw)
        save(fig, "returns")
    compared = drawn_differences(summary)
    if compared:
        fig, ax = plt.subplots(figsize=(1.4 * len(tasks) * len(compared) ** 0.5 + 3, 3.6))
        _differences(ax, summary, compared)
        save(fig, "differences")
    if any("ope_ratio" in s.fields for s in summary.per_task.values()):
        fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.6))
        _scatter(axes, summary)
        save(fig, "scatter")
    _rliable(summary, save)
    return saved
