"""Results tables from the evaluate stage's rows (SPEC section 7).

A row: {"seed", "task", "method", "returns": [E episode returns], "discounted": [E], and for FB
methods "ope_ratio", "ope_fb_value", "ope_c_z", "ope_ess", ...; for ZOL "zol_*" diagnostics}.
Episodes are paired: episode e of seed s starts from the same state for every method of a task.

`summarize(rows)` returns a typed `Summary` (`fbjax.eval.results`): per (task, method), the mean
return with a hierarchical-bootstrap 95% CI (seeds, then episodes), undiscounted and discounted:
a description. Claims are tested over seeds by `fbjax.eval.claims` (per task and on the primary
endpoint, Holm within each family). It
also says which tasks have an oracle (the task's reference, the scripted navigator where it was
evaluated and TD3 otherwise, beats random beyond both CIs and earns MIN_ORACLE_RETURN) and, over
those tasks, rliable's IQM of oracle-normalised return and probability of improvement over `fb`.
`markdown_report` renders it; `fbjax.eval.figures.figures` draws it.
"""

import numpy as np

from fbjax.eval.claims import (
    ALPHA,
    BASELINE,
    EFFECT,
    POWER,
    Scale,
    contrasts,
    primary_endpoint,
    seed_tests,
)
from fbjax.eval.methods import ORACLES, ablations, ordered
from fbjax.eval.results import Aggregate, Claim, Entry, Interval, SeedTest, Summary, cells
from fbjax.eval.stats import aggregate_scores, hierarchical_bootstrap

# "% of oracle" needs an oracle that earns at least this much per episode; below it the ratio of
# two near-zero returns says nothing.
MIN_ORACLE_RETURN = 1.0
ORACLE_NAMES = {"td3": "TD3", "navigator": "the scripted navigator"}


def summarize(rows: list[dict], reps: int = 2000) -> Summary:
    data = cells(rows)
    methods = ordered([method for _, method in data])
    tasks = list(dict.fromkeys(task for task, _ in data))
    per_task = {
        (task, method): Entry(hierarchical_bootstrap(d.returns, reps),
                              hierarchical_bootstrap(d.discounted, reps),
                              d.seeds, d.episodes,
                              {f: float(v.mean()) for f, v in d.fields.items()})
        for (task, method), d in data.items() if method in methods}  # grid rows feed the arms
    oracle = {task: _has_oracle(per_task, task) for task in tasks}
    valid = [t for t in tasks if oracle[t]]
    pairs = contrasts(methods)
    means = {t: Scale(per_task[(t, oracle_of(per_task, t))].ret.mean,
                      per_task[(t, oracle_of(per_task, t))].discounted.mean) for t in valid}
    tests = seed_tests(data, tasks, pairs, means)
    aggregates, skipped = _aggregates(data, per_task, methods, valid, reps)
    return Summary(
        tasks, methods, per_task,
        diffs={(t, m): test for (t, m, against), test in tests.items() if against == BASELINE},
        tests=tests, primary=primary_endpoint(data, pairs, means), oracle=oracle,
        normalised_tasks=valid,
        oracle_beaten_by={t: b for t in valid if (b := _beaten_by(per_task, t, methods))},
        aggregates=aggregates, aggregates_skipped=skipped)


def _aggregates(data: dict, per_task: dict, methods: list[str], valid: list[str],
                reps: int) -> tuple[dict[str, Aggregate], str | None]:
    """rliable's aggregates of the oracle-normalised returns over the tasks with an oracle, for
    the methods evaluated with fb's seeds on every one of them."""
    scored = [m for m in methods if all((t, m) in data for t in valid)]
    if not valid or BASELINE not in scored:
        return {}, None
    seeds = data[(valid[0], BASELINE)].seeds
    scores = {m: np.stack([data[(t, m)].returns.mean(axis=1)
                           / per_task[(t, oracle_of(per_task, t))].ret.mean for t in valid], 1)
              for m in scored if all(data[(t, m)].seeds == seeds for t in valid)}
    try:
        return aggregate_scores(scores, BASELINE, reps), None
    except ImportError as error:  # a bare accelerator image without rliable
        return {}, str(error)


def _beaten_by(per_task: dict, task: str, methods: list[str]) -> list[str]:
    """The learned methods whose return CI lies wholly above the task's oracle's: there the
    oracle is no upper reference, and "% of the oracle" says how weak the oracle is, not how
    near the method is to the task's best."""
    ref = oracle_of(per_task, task)
    hi = per_task[(task, ref)].ret.hi
    return [m for m in methods if m not in (*ORACLES, "random") and (task, m) in per_task
            and per_task[(task, m)].ret.lo > hi]


def oracle_of(per_task: dict, task: str) -> str | None:
    """The method that normalises `task`: the first of ORACLES evaluated on it."""
    return next((m for m in ORACLES if (task, m) in per_task), None)


def _has_oracle(per_task: dict, task: str) -> bool:
    """The task's reference (`oracle_of`) is an oracle when it earns MIN_ORACLE_RETURN and, when
    random was evaluated, its CI lies above random's; otherwise "% of oracle" means nothing."""
    oracle = per_task.get((task, oracle_of(per_task, task)))
    if oracle is None or oracle.ret.mean < MIN_ORACLE_RETURN:
        return False
    rand = per_task.get((task, "random"))
    return rand is None or oracle.ret.lo > rand.ret.hi


def _oracle_names(summary: Summary) -> str:
    """'TD3', 'the scripted navigator', or both, as the report's tasks use them."""
    used = sorted({oracle_of(summary.per_task, t) for t in summary.tasks} - {None})
    return " / ".join(ORACLE_NAMES[m] for m in used) or "no method"


def _ci(s: Interval | SeedTest, digits: int = 1) -> str:
    return f"{s.mean:.{digits}f} [{s.lo:.{digits}f}, {s.hi:.{digits}f}]"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return (["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
            + ["| " + " | ".join(r) + " |" for r in rows] + [""])


def _return_tables(summary: Summary, headline: list[str]) -> list[str]:
    per_task, lines = summary.per_task, []
    for kind, title, digits in (("ret", "Undiscounted return", 1),
                                ("discounted", "Discounted return (training discount)", 2)):
        rows = [[task] + [_ci(getattr(per_task[(task, m)], kind), digits)
                          if (task, m) in per_task else "—" for m in headline]
                for task in summary.tasks]
        lines += [f"**{title}**", ""] + _table(["task", *headline], rows)
    return lines


def _normalised_table(summary: Summary, headline: list[str]) -> list[str]:
    """Per task with an oracle: each learned method's return as % of the oracle's mean return
    (the return's hierarchical-bootstrap CI divided by that mean)."""
    per_task, tasks = summary.per_task, summary.normalised_tasks
    shown = [m for m in headline if m not in (*ORACLES, "random")]
    if not tasks or not shown:
        return []
    rows = []
    for task in tasks:
        oracle = per_task[(task, oracle_of(per_task, task))].ret.mean
        row = [task]
        for m in shown:
            r = per_task[(task, m)].ret if (task, m) in per_task else None
            row.append(f"{100 * r.mean / oracle:.0f}% [{100 * r.lo / oracle:.0f}, "
                       f"{100 * r.hi / oracle:.0f}]" if r else "—")
        rows.append(row)
    lines = ([f"**% of the oracle** ({_oracle_names(summary)}) per task: the return and its 95% "
              "CI divided by the oracle's mean return.", ""] + _table(["task", *shown], rows))
    beaten = summary.oracle_beaten_by
    if beaten:
        lines += ["**The oracle is beaten** on " + "; ".join(
            f"{t} (by {', '.join(ms)})" for t, ms in beaten.items()) + ": those methods' CIs lie "
            f"wholly above {_oracle_names(summary)}'s. There it is no upper reference, and a "
            "figure over 100% says the oracle is weak, not that the method is near the task's "
            "best; train the oracle longer before reading these percentages.", ""]
    return lines


def _p(p: float) -> str:
    return "—" if not np.isfinite(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def _test_cells(t: Claim, digits: int = 1) -> list[str]:
    """diff [t CI] (* where the Holm-adjusted p < ALPHA), p, Holm p, discounted diff, seeds
    needed."""
    mark = " *" if t.p_holm < ALPHA else ""
    return [_ci(t.diff, digits) + mark, _p(t.diff.p), _p(t.p_holm), _ci(t.discounted, digits + 1),
            "—" if t.seeds_needed is None else str(t.seeds_needed)]


def _primary_table(summary: Summary) -> list[str]:
    primary = summary.primary
    if not primary:
        return (["**Primary endpoint**: not computed, for want of a task with an oracle (one "
                 "that earns enough and beats random) or of a contrast evaluated on all of them; "
                 "only the per-task tests below remain.", ""] if summary.tests else [])
    seeds = next(iter(primary.values())).diff.seeds
    rows = [[f"{m} − {a}", *_test_cells(t, 3)] for (m, a), t in primary.items()]
    return ([f"**Primary endpoint** (pre-registered): per seed, the IQM over the tasks with an "
             f"oracle ({', '.join(summary.normalised_tasks)}) of the undiscounted return / the "
             f"oracle's mean return; method − comparator over the {seeds} seeds with a Student t "
             f"95% CI ({seeds - 1} df), the two-sided p, and Holm's adjustment over these "
             f"{len(primary)} contrasts (* = Holm p < {ALPHA:g}). Beside it the same on "
             "discounted returns, and the seeds a paired t-test needs to detect +"
             f"{EFFECT:g} (+{100 * EFFECT:.0f}% of the oracle) at {100 * POWER:.0f}% power "
             "(alpha 0.05 two-sided, before Holm) given this run's per-seed spread.", ""]
            + _table(["contrast", "difference [95% t CI]", "p", "Holm p", "discounted",
                      f"seeds for +{100 * EFFECT:.0f}%"], rows))


def _difference_table(summary: Summary) -> list[str]:
    tests = summary.tests
    if not tests:
        return []
    seeds = next(iter(tests.values())).diff.seeds
    rows = [[task, f"{m} − {a}", *_test_cells(t)] for (task, m, a), t in tests.items()]
    lines = [f"**Per task, tested over seeds** (undiscounted, method − comparator: the mean of "
             f"the {seeds} per-seed paired differences with a Student t 95% CI; p two-sided; "
             f"Holm over the family of all {len(tests)} task x contrast tests, * = Holm p < "
             f"{ALPHA:g}). Discounted beside it; last column: the seeds a paired t-test needs to "
             f"detect +{100 * EFFECT:.0f}% of the task's oracle at {100 * POWER:.0f}% power from "
             "this run's per-seed spread (— without an oracle).", ""]
    lines += _table(["task", "contrast", "difference [95% t CI]", "p", "Holm p", "discounted",
                     f"seeds for +{100 * EFFECT:.0f}%"], rows)
    needed = [t.seeds_needed for t in tests.values() if t.seeds_needed is not None]
    if needed:
        lines += [f"**Power**: this run has {seeds} seeds; detecting +{100 * EFFECT:.0f}% of the "
                  f"oracle at {100 * POWER:.0f}% power would need {min(needed)}-{max(needed)} "
                  f"(median {int(np.median(needed))}) across these contrasts.", ""]
    return lines


def _estimate(e: Interval) -> str:
    return f"{e.mean:.2f} [{e.lo:.2f}, {e.hi:.2f}]"


def _aggregate_lines(summary: Summary) -> list[str]:
    agg, lines = summary.aggregates, []
    if summary.aggregates_skipped:
        lines += [f"Aggregates skipped: {summary.aggregates_skipped} (pip install -c "
                  "constraints.txt -e \".[report]\").", ""]
    elif agg:
        rows = [[m, _estimate(a.mean), _estimate(a.iqm), _estimate(a.poi) if a.poi else "—"]
                for m, a in agg.items()]
        lines += [f"**Aggregates over the tasks with an oracle** "
                  f"({', '.join(summary.normalised_tasks)}; the oracle, "
                  f"{_oracle_names(summary)}, earns >= {MIN_ORACLE_RETURN:g} and beats random "
                  "beyond both CIs): score = return / the oracle's mean return; rliable's "
                  "stratified bootstrap over seeds.", ""]
        lines += _table(["method", "mean [95% CI]", "IQM [95% CI]",
                         f"P(method > {BASELINE}) [95% CI]"], rows)
    missing = [t for t in summary.tasks if not summary.oracle[t]]
    if missing and any(oracle_of(summary.per_task, t) for t in summary.tasks):
        lines += [f"No oracle on {', '.join(missing)}: {_oracle_names(summary)} does not beat "
                  "random there, so those tasks are left out of the normalised aggregates.", ""]
    return lines


def _num(x: float, spec: str) -> str:
    """x formatted by spec, or "—" when it is not a number (e.g. cos(z, z_r) for z_r = 0, a
    prompt that saw no rewarded sample)."""
    return format(x, spec) if np.isfinite(x) else "—"


# (title, header, the field marking a row, one row's cells from its summary entry s)
_DIAGNOSTICS = (
    ("**Off-policy estimates** of the discounted return from the data alone (mean over seeds), "
     "next to the discounted return the policy got, with the ratio's diagnostics (c_z = "
     "E_rho[l], 1 for an exact model; ESS as a fraction of the sample; l < 0: fraction of "
     "negative linear estimates).",
     ["true discounted", "J_hat (free ratio)", "FB value", "c_z", "ESS", "max w", "l < 0"],
     "ope_ratio",
     lambda s: [_num(s.discounted.mean, ".2f")] + [
         _num(s.fields[k], f) for k, f in (("ope_ratio", ".2f"), ("ope_fb_value", ".2f"),
                                    ("ope_c_z", ".2f"), ("ope_ess", ".3f"), ("ope_max_w", ".1f"),
                                    ("ope_frac_negative", ".2f"))]),
    ("**ZOL diagnostics** (mean over seeds) of the search's own ratio (exp transform, its start "
     "set): cos(z, z_r), ESS, chi², max w, fraction l < 0, c_z at the chosen z; the weighted "
     "reward and the objective at z_r -> at z.",
     ["cos", "ESS", "chi²", "max w", "l < 0", "c_z", "weighted reward", "objective"],
     "zol_ess",
     lambda s: [_num(s.fields[k], f) for k, f in (
         ("zol_cos_z0", ".3f"), ("zol_ess", ".3f"), ("zol_chi2", ".1f"), ("zol_max_w", ".1f"),
         ("zol_frac_negative", ".2f"), ("zol_c_z", ".2f"))] + [
         f"{_num(s.fields[k + '_z0'], '.4f')} -> {_num(s.fields[k], '.4f')}"
         for k in ("zol_weighted_reward", "zol_objective")]),
)


def markdown_report(summary: Summary, inference_note: str) -> str:
    tasks, methods, per_task = summary.tasks, summary.methods, summary.per_task
    any_row = next(iter(per_task.values()))
    lines = [f"Mean episode return with a 95% hierarchical-bootstrap CI (resampling the "
             f"{len(any_row.seeds)} training seeds, then the {any_row.episodes} episodes "
             "of each); every method of a task runs from the same start states.", ""]
    headline = [m for m in methods if m not in ablations()]
    lines += _return_tables(summary, headline) + _normalised_table(summary, headline)
    lines += _primary_table(summary) + _difference_table(summary) + _aggregate_lines(summary)
    for title, header, marker, row_cells in _DIAGNOSTICS:
        rows = [[t, m, *row_cells(per_task[(t, m)])] for t in tasks for m in methods
                if (t, m) in per_task and marker in per_task[(t, m)].fields]
        if rows:
            lines += [title, ""] + _table(["task", "method", *header], rows)
    lines.append(inference_note)
    return "\n".join(lines)


def ope_rank_correlation(summary: Summary) -> float | None:
    """Spearman correlation between J_hat (free ratio) and the true discounted return over every
    (task, FB method) of the report."""
    from scipy.stats import spearmanr

    pairs = [(s.fields["ope_ratio"], s.discounted.mean) for s in summary.per_task.values()
             if "ope_ratio" in s.fields]
    if len(pairs) < 3:
        return None
    return float(spearmanr(*zip(*pairs, strict=True)).statistic)


def ope_rank_correlation_within_tasks(summary: Summary) -> dict[str, float]:
    """Per task with at least 3 FB methods whose true returns and estimates both vary: Spearman
    correlation between J_hat and the true discounted return across those methods. Pooled over
    tasks, the correlation mostly ranks the tasks' reward scales; within a task it asks whether
    OPE can choose between policies. A task where every method earns the same has nothing to
    rank and is left out."""
    from scipy.stats import spearmanr

    out = {}
    for task in summary.tasks:
        pairs = [(s.fields["ope_ratio"], s.discounted.mean)
                 for (t, _), s in summary.per_task.items() if t == task and "ope_ratio" in s.fields]
        estimate, true = (np.array(v) for v in zip(*pairs, strict=True)) if pairs else ((), ())
        if len(pairs) >= 3 and np.ptp(estimate) > 0 and np.ptp(true) > 0:
            out[task] = float(spearmanr(estimate, true).statistic)
    return out
