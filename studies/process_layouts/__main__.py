"""The same pipeline run in two process layouts: FB's % of the scripted navigator per task, with
the report's 95% CIs, per seed, and whether each task's two intervals overlap.

  python -m studies.process_layouts
  # reads experiments/results/point_mass_maze/ (train.parallel="cores": one pinned worker per
  # core) and experiments/results/point_mass_maze_sequential/ (one process, seeds in turn);
  # writes studies/process_layouts/results/process_layouts.{md,json}

Both runs are the same math on the same dataset, up to floating-point summation order (issue
25's "stable across floating-point order").
"""

import json
import os

import numpy as np
from absl import app, flags

from fbjax.provenance import provenance

RUNS = {"cores": "experiments/results/point_mass_maze",
        "one process": "experiments/results/point_mass_maze_sequential"}
OUT = "studies/process_layouts/results/process_layouts"
_METHOD = flags.DEFINE_string("method", "fb", "the method compared across layouts")


def _read(folder: str, name: str) -> dict:
    with open(os.path.join(folder, name)) as f:
        return json.load(f)


def layout_figures(folder: str, method: str) -> dict:
    """Per task: the report's mean % of the oracle and its CI, and each seed's % (its mean
    return over the episodes / the oracle's mean return, as the report normalises)."""
    summary, rows = _read(folder, "summary.json"), _read(folder, "results.json")["rows"]
    oracle = {c["task"]: c["return"]["mean"] for c in summary["per_task"]
              if c["method"] == "navigator"}
    out = {}
    for cell in summary["per_task"]:
        task = cell["task"]
        if cell["method"] != method or task not in oracle:
            continue
        seeds = {r["seed"]: float(np.mean(r["returns"])) / oracle[task]
                 for r in rows if r["task"] == task and r["method"] == method}
        out[task] = {k: cell["return"][k] / oracle[task] for k in ("mean", "lo", "hi")}
        out[task]["seeds"] = dict(sorted(seeds.items()))
    return out


def _pct(c: dict) -> str:
    return f"{100 * c['mean']:.0f}% [{100 * c['lo']:.0f}, {100 * c['hi']:.0f}]"


def _seeds(c: dict) -> str:
    return " / ".join(f"{100 * v:.0f}" for v in c["seeds"].values())


def table(figures: dict[str, dict]) -> list[str]:
    (a, fa), (b, fb) = figures.items()
    lines = [f"| task | {a} | {b} | intervals overlap | each mean inside the other's CI | "
             f"per seed, {a} | per seed, {b} |", "|---|---|---|---|---|---|---|"]
    for task in fa:
        x, y = fa[task], fb[task]
        overlap = max(x["lo"], y["lo"]) <= min(x["hi"], y["hi"])
        inside = y["lo"] <= x["mean"] <= y["hi"] and x["lo"] <= y["mean"] <= x["hi"]
        lines.append(f"| {task} | {_pct(x)} | {_pct(y)} | {'yes' if overlap else 'no'} | "
                     f"{'yes' if inside else 'no'} | {_seeds(x)} | {_seeds(y)} |")
    return lines


def main(argv):
    del argv
    figures = {name: layout_figures(folder, _METHOD.value) for name, folder in RUNS.items()}
    meta = provenance("python -m studies.process_layouts")
    lines = [f"# {_METHOD.value}: % of the scripted navigator in two process layouts", "",
             "Mean with the report's 95% hierarchical-bootstrap CI; per seed, seeds "
             f"{' / '.join(map(str, next(iter(figures.values()))['reach_top_left']['seeds']))}"
             ". Runs: " + ", ".join(f"{k} `{v}/`" for k, v in RUNS.items()) + ".", "",
             *table(figures), "", f"Made by `python -m studies.process_layouts` at commit "
             f"{meta['commit']}."]
    with open(OUT + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(OUT + ".json", "w") as f:
        json.dump({"figures": figures, "runs": RUNS, "provenance": meta}, f, indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    app.run(main)
