"""The same pipeline run in two process layouts: FB's % of the scripted navigator per task, with
the report's 95% CIs, per seed, and whether each task's two intervals overlap.

  python -m studies.process_layouts
  # reads experiments/results/point_mass_maze/ (train.parallel="cores": one pinned worker per
  # core) and experiments/results/point_mass_maze_sequential/ (one process, seeds in turn);
  # writes studies/process_layouts/results/process_layouts.{md,json}
  python -m studies.process_layouts --cores=experiments/results/point_mass_maze_b128 \
    --one_process=experiments/results/point_mass_maze_sequential_b128 \
    --out=studies/process_layouts/results/process_layouts_b128   # the previous default's pair

Both runs must be the same math on the same dataset, up to floating-point summation order (issue
25's "stable across floating-point order"): the study refuses two runs whose FB settings or
dataset differ, as each run's `fb_config.json` (its seed 0's run description, which
experiments/regenerate.sh publishes beside the tables) records them.
"""

import json
import os
import sys

import numpy as np
from absl import flags

from experiments.common import run
from fbjax.provenance import provenance, write_results

_METHOD = flags.DEFINE_string("method", "fb", "the method compared across layouts")
_CORES = flags.DEFINE_string("cores", "experiments/results/point_mass_maze",
                             "the published run with one pinned worker per core")
_ONE = flags.DEFINE_string("one_process", "experiments/results/point_mass_maze_sequential",
                           "the published run with its seeds in turn in one process")
_OUT = flags.DEFINE_string("out", "studies/process_layouts/results/process_layouts",
                           "output stem: writes OUT.md and OUT.json")


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


def check_same_run(runs: dict[str, str]) -> None:
    """ValueError unless every run's fb_config.json has the same FB settings and dataset."""
    described = {}
    for name, folder in runs.items():
        path = os.path.join(folder, "fb_config.json")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: missing; the study compares runs by the FB settings "
                                    "it records (experiments/regenerate.sh publishes it)")
        config = _read(folder, "fb_config.json")
        described[name] = {"fb": config["fb"], "dataset": config["dataset"]}
    (a, first), *others = described.items()
    for b, other in others:
        for part in ("fb", "dataset"):
            if other[part] != first[part]:
                diff = sorted(k for k in first[part].keys() | other[part].keys()
                              if first[part].get(k) != other[part].get(k))
                raise ValueError(f"process_layouts: {runs[a]} and {runs[b]} differ in {part} "
                                 f"{diff}: not the same run in two layouts")


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
    runs = {"cores": _CORES.value, "one process": _ONE.value}
    check_same_run(runs)
    figures = {name: layout_figures(folder, _METHOD.value) for name, folder in runs.items()}
    meta = provenance(" ".join(["python -m studies.process_layouts", *sys.argv[1:]]))
    first_task = next(iter(next(iter(figures.values())).values()))
    lines = [f"# {_METHOD.value}: % of the scripted navigator in two process layouts", "",
             "Mean with the report's 95% hierarchical-bootstrap CI; per seed, seeds "
             f"{' / '.join(map(str, first_task['seeds']))}"
             ". Runs: " + ", ".join(f"{k} `{v}/`" for k, v in runs.items()) + ".", "",
             *table(figures), "", f"Made by `{meta['command']}` at commit {meta['commit']}."]
    print("\n".join(lines))
    write_results(_OUT.value, {"figures": figures, "runs": runs, "provenance": meta},
                  "\n".join(lines) + "\n")


if __name__ == "__main__":
    run(main)
