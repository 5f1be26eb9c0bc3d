"""The MJX pipeline's last stage: WORKDIR/eval/results.json -> WORKDIR/report/ (results.md with
the bootstrap CIs, paired differences and aggregates, summary.json, the figures)."""

import dataclasses
import json
import os
from typing import Any

import numpy as np

from fbjax.configs import from_dict, to_dict
from fbjax.eval.figures import figures
from fbjax.eval.methods import ORACLES
from fbjax.eval.report import (
    ORACLE_NAMES,
    markdown_report,
    ope_rank_correlation,
    ope_rank_correlation_within_tasks,
    summarize,
)
from fbjax.eval.results import Row, Summary
from fbjax.eval.zero_shot import FEW_REWARDED, REWARDED_RULE
from fbjax.pipeline.arms import Choice
from fbjax.pipeline.config import EvalConfig, ExperimentConfig
from fbjax.pipeline.workdir import Workdir, one_writer


@dataclasses.dataclass(frozen=True)
class Collection:
    """What the report says of the dataset (the manifest's collection holds more)."""

    policy: str
    num_envs: int
    num_episodes: int


@dataclasses.dataclass(frozen=True)
class EvalResult:
    """WORKDIR/eval/results.json as the report reads it (`read`). A field a file from before it
    was written lacks takes its default; `eval` stays the file's dict, since its defaults
    changed (a file without reward_prompt sampled)."""

    domain: str
    eval: dict[str, Any]
    collection: Collection
    seeds: list[int]
    rows: list[dict[str, Any]]
    seeds_planned: list[int] | None = None
    complete: bool = True
    fb_steps: int | None = None
    oracle_steps: int | None = None
    selection: dict[str, Choice] | None = None
    rewarded_in_inference_sample: dict[str, dict[str, int]] | None = None

    @classmethod
    def read(cls, path: str) -> "EvalResult":
        with open(path) as f:
            return from_dict(cls, json.load(f), path, strict=False)


def inference_note(ev: EvalConfig, selection: dict[str, Choice] | None) -> str:
    grid = ev.grid()
    lines = ["How every inference setting was chosen (none on the test return of the task it is "
             "reported on):",
             "* fb: reward inference on " + ("every row of the dataset" if ev.reward_prompt == "all"
                                             else f"{ev.inference_samples} dataset samples")
             + " (no setting); ZOL and rwr start from that z_r.",
             f"* zol_published: the authors' published regime, fixed before any evaluation "
             f"(pre-registered): {to_dict(ev.zol)}.",
             f"* zol_selected: for each task, the setting of a {len(grid)}-point grid (the "
             f"published one, and lr in {list(ev.grid_lr)} x chi2_coef in "
             f"{list(ev.grid_chi2_coef)}, the rest as published) that scored best "
             + (f"on that task over the development seeds {list(ev.selection_seeds)} alone "
                "(mean true return); those seeds are left out of every table, which shows the "
                "test seeds only." if ev.selection_seeds else
                "on the domain's other tasks (true returns rescaled per task between the worst "
                "and best setting, all seeds): the same seeds and models as the test task, so "
                "only the task is held out.")]
    if selection:
        lines.append("  Selected: " + "; ".join(
            f"{task} -> {c.setting} " + (f"(development-seed return {c.dev_seed_return:.2f})"
                                         if c.dev_seed_return is not None else
                                         f"(held-out score {c.held_out_score:.2f})")
            for task, c in selection.items()) + ".")
    if ev.zol.starts == "data_topk" and _zol_arms_chosen(ev):
        lines.append("* ZOL's start set is data_topk (dataset states plus the top-reward "
                     "states), not the task's rho0: the ratio ZOL searches with is then outside "
                     "the identity w_z = d_pi / rho of SPEC section 5, and its diagnostics "
                     "describe the search only. The off-policy estimates use the episode starts "
                     "(init), as the identity requires.")
    if "zol_control" in ev.chosen:
        lines.append(f"* zol_control (the control arm): z_r turned in a random direction through "
                     f"the angle zol_published moved it, {ev.control_draws} draws per prompt, "
                     "each episode's return averaged over them (no setting).")
    if "fb_goal" in ev.chosen:
        lines.append("* fb_goal: the goal prompt z = B(goal) at the task's target (no setting).")
    lines += [f"* rwr (ablation): ratio-weighted regression, {ev.rwr_iterations} iterations, "
              "linear ratio clipped at 20, fixed in advance.",
              f"* OPE: rho0 = {ev.num_starts} dataset episode starts; J_hat with the linear ratio "
              "clipped at 20 and renormalised."]
    return "\n".join(lines)


def rewarded_note(result: EvalResult) -> str:
    """What reward inference had to go on: each task's rewarded transitions in its inference
    sample (over the seeds), and which tasks had too few. Empty for results from before the
    evaluation counted them."""
    counts = result.rewarded_in_inference_sample
    if not counts:
        return ""
    tasks = list(next(iter(counts.values())))
    spans = {t: (min(c[t] for c in counts.values()), max(c[t] for c in counts.values()))
             for t in tasks}
    every_row = result.eval.get("reward_prompt", "sample") == "all"
    text = (f"Rewarded transitions ({REWARDED_RULE}) in the "
            f"{result.eval.get('inference_samples')} samples that ZOL, rwr and OPE read"
            + (" (reward inference reads every row)" if every_row else "")
            + ", over the seeds: "
            + "; ".join(f"{t} {lo}" + (f"-{hi}" if hi != lo else "")
                        for t, (lo, hi) in spans.items()) + ".")
    few = [t for t, (lo, _) in spans.items() if lo < FEW_REWARDED]
    if few:
        text += (f" Under {FEW_REWARDED} for {', '.join(few)}: there the sample says little "
                 "about the task, whatever the model.")
    return text


def _zol_arms_chosen(ev: EvalConfig) -> bool:
    return any(m in ev.chosen for m in ("zol_published", "zol_selected", "zol_control"))


@one_writer
def report(config: ExperimentConfig) -> str:
    workdir = Workdir.of(config)
    results_path = workdir.results
    if not os.path.exists(results_path):
        raise FileNotFoundError(f"report: no {results_path}; run python -m experiments.evaluate "
                                "first")
    result = EvalResult.read(results_path)
    ev = from_dict(EvalConfig, result.eval, f"{results_path}: eval")
    dev = set(ev.selection_seeds)
    rows = [Row.from_json(r) for r in result.rows]
    summary = summarize([r for r in rows if r.seed not in dev], ev.bootstrap_reps)
    spearman = ope_rank_correlation(summary)
    note = inference_note(ev, result.selection)
    collection = result.collection
    partial = "" if result.complete else (
        f"**Partial evaluation**: it stopped after seeds {result.seeds} of "
        f"{result.seeds_planned}; every figure below is from those seeds alone.\n\n")
    oracles = " and ".join(ORACLE_NAMES[m] for m in ORACLES[::-1] if m in ev.chosen)
    td3 = (f", TD3 {_or_unknown(result.oracle_steps)} per task" if "td3" in ev.chosen else "")
    table = (f"# {result.domain}: zero-shot FB and ZOL against {oracles or 'no oracle'}\n\n"
             + partial + ("Test" if dev else "Training")
             + f" seeds {[x for x in result.seeds if x not in dev]}"
             + (f" (development seeds {sorted(dev)}, which chose zol_selected's settings, are "
                "not shown)" if dev else "") + f" (FB {_or_unknown(result.fb_steps)} "
             f"updates{td3}); dataset {collection.policy} ({collection.num_envs} envs x "
             f"{collection.num_episodes} episodes).\n\n" + markdown_report(summary, note))
    if rewarded_note(result):
        table += "\n\n" + rewarded_note(result)
    within = ope_rank_correlation_within_tasks(summary)
    if spearman is not None:
        rated = sum("ope_ratio" in s.fields for s in summary.per_task.values())
        table += (f"\n\nSpearman rank correlation of J_hat with the true discounted return over "
                  f"the {rated} (task, FB method) rows above: {spearman:.2f} (pooled over "
                  "tasks, so it mostly ranks the tasks' reward scales).")
    if within:
        table += (" Within each task, across its FB methods (the choice OPE is for): "
                  + ", ".join(f"{t} {r:.2f}" for t, r in within.items())
                  + f"; mean {np.mean(list(within.values())):.2f}"
                  + (f" ({', '.join(t for t in summary.tasks if t not in within)}: every "
                     "method earned the same, nothing to rank)"
                     if len(within) < len(summary.tasks) else "")
                  + ". With this few policies per task these are coarse; "
                  "studies/ope_validation/ measures OPE on many.")
    os.makedirs(workdir.report, exist_ok=True)
    with open(os.path.join(workdir.report, "results.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(workdir.report, "summary.json"), "w") as f:
        json.dump({**_json_summary(summary, spearman), "ope_spearman_within_tasks": within}, f,
                  indent=1)
    try:
        figures(summary, workdir.report)
    except ImportError as error:  # an install without the [report] extra
        print(f"report: no figures ({error}); pip install -c constraints.txt -e "
              "\".[report]\" draws them", flush=True)
    return table


def _or_unknown(steps: int | None) -> int | str:
    return "?" if steps is None else steps


def _json_summary(summary: Summary, spearman) -> dict:
    return {**summary.as_dict(), "ope_spearman": spearman}
