"""Results table and figures from the evaluate binary's rows.

A row: {"seed", "task", "method", "returns": [E episode returns], "discounted": [E],
"ope_ratio", "ope_fb_value"} (the last two only for FB methods).
"""

import os
from collections import defaultdict

import numpy as np

from fbjax.eval.evaluator import summarize
from fbjax.eval.zero_shot import FB_METHODS, METHODS

# "% of oracle" is shown only where the oracle earns at least this much per episode; below it the
# ratio of two near-zero returns says nothing.
MIN_ORACLE_RETURN = 1.0


def aggregate(rows: list[dict]) -> dict[tuple[str, str], dict]:
    """Per (task, method): episodes pooled over seeds; OPE estimates averaged over seeds."""
    pooled = defaultdict(lambda: {"returns": [], "discounted": [], "ratio": [], "fb_value": [],
                                  "seeds": set()})
    for row in rows:
        entry = pooled[(row["task"], row["method"])]
        entry["returns"] += row["returns"]
        entry["discounted"] += row["discounted"]
        entry["seeds"].add(row["seed"])
        if "ope_ratio" in row:
            entry["ratio"].append(row["ope_ratio"])
            entry["fb_value"].append(row["ope_fb_value"])
    out = {}
    for key, entry in pooled.items():
        out[key] = {"return": summarize(entry["returns"]),
                    "discounted": summarize(entry["discounted"]),
                    "episodes": len(entry["returns"]), "seeds": sorted(entry["seeds"])}
        if entry["ratio"]:
            out[key]["ope_ratio"] = float(np.mean(entry["ratio"]))
            out[key]["ope_fb_value"] = float(np.mean(entry["fb_value"]))
    return out


def _tasks_methods(summary):
    tasks = list(dict.fromkeys(task for task, _ in summary))
    methods = [m for m in METHODS if any((t, m) in summary for t in tasks)]
    return tasks, methods


def _percent_of_oracle(summary: dict, task: str) -> str:
    """fb / td3 where the TD3 run is an oracle: it earns MIN_ORACLE_RETURN and beats the random
    policy with non-overlapping CIs; a failed oracle makes the ratio meaningless."""
    fb, oracle = summary.get((task, "fb")), summary.get((task, "td3"))
    if fb is None or oracle is None:
        return "—"
    o = oracle["return"]
    ok = o["mean"] >= MIN_ORACLE_RETURN
    if (task, "random") in summary:
        r = summary[(task, "random")]["return"]
        ok = ok and o["mean"] - o["ci95"] > r["mean"] + r["ci95"]
    return f"{100 * fb['return']['mean'] / o['mean']:.0f}%" if ok else "no oracle"


def markdown_table(summary: dict, inference_note: str) -> str:
    tasks, methods = _tasks_methods(summary)
    ratio = "td3" in methods and "fb" in methods
    lines = ["Undiscounted episode return, mean ± 95% CI over episodes (all seeds pooled). "
             f"FB % of oracle = fb / td3, shown where td3 >= {MIN_ORACLE_RETURN:g} and, when "
             "random was evaluated, td3 beats random beyond both CIs; otherwise 'no oracle'.", "",
             "| task | " + " | ".join(methods) + (" | FB % of oracle |" if ratio else " |"),
             "|---" * (len(methods) + 1 + ratio) + "|"]
    for task in tasks:
        cells = []
        for method in methods:
            r = summary.get((task, method), {}).get("return")
            cells.append(f"{r['mean']:.1f} ± {r['ci95']:.1f}" if r else "—")
        row = f"| {task} | " + " | ".join(cells) + " |"
        if ratio:
            row += f" {_percent_of_oracle(summary, task)} |"
        lines.append(row)
    fb_methods = [m for m in FB_METHODS if m in methods]
    if fb_methods:
        lines += ["", "Off-policy estimates of the discounted return from the data alone, next "
                  "to the discounted return the policy actually got.", "",
                  "| task | method | true discounted | J_hat (free ratio) | FB value |",
                  "|---|---|---|---|---|"]
        for task in tasks:
            for method in fb_methods:
                s = summary.get((task, method))
                if s and "ope_ratio" in s:
                    lines.append(f"| {task} | {method} | {s['discounted']['mean']:.2f} | "
                                 f"{s['ope_ratio']:.2f} | {s['ope_fb_value']:.2f} |")
    lines += ["", inference_note]
    return "\n".join(lines)


def figures(summary: dict, directory: str) -> list[str]:
    """bars.png (one panel per task, one bar per method with its CI) and scatter.png (estimated
    vs true discounted return for every FB prompt)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks, methods = _tasks_methods(summary)
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.2 * len(tasks), 3.2), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        present = [m for m in methods if (task, m) in summary]
        means = [summary[(task, m)]["return"]["mean"] for m in present]
        errors = [summary[(task, m)]["return"]["ci95"] for m in present]
        ax.bar(range(len(present)), means, yerr=errors, capsize=3,
               color=[f"C{METHODS.index(m)}" for m in present])
        ax.set_xticks(range(len(present)), present, rotation=45, ha="right")
        ax.set_title(task, fontsize=9)
    axes[0, 0].set_ylabel("episode return")
    fig.tight_layout()
    bars = os.path.join(directory, "bars.png")
    fig.savefig(bars, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(4.2, 4))
    true, ratio, value = [], [], []
    for s in summary.values():
        if "ope_ratio" in s:
            true.append(s["discounted"]["mean"])
            ratio.append(s["ope_ratio"])
            value.append(s["ope_fb_value"])
    if true:
        ax.scatter(true, ratio, label="J_hat (free ratio)", s=18)
        ax.scatter(true, value, label="FB value", s=18, marker="x")
        hi = max(max(true), max(ratio), max(value), 1e-3)
        lo = min(min(true), min(ratio), min(value), 0.0)
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.legend(fontsize=8)
    ax.set_xlabel("true discounted return")
    ax.set_ylabel("estimate")
    fig.tight_layout()
    scatter = os.path.join(directory, "scatter.png")
    fig.savefig(scatter, dpi=110)
    plt.close(fig)
    return [bars, scatter]
