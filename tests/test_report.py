"""The report's statistics and tables on hand-made rows with known answers."""

import dataclasses

import numpy as np
import pytest

from fbjax.eval.report import markdown_report, ope_rank_correlation, oracle_of, summarize
from fbjax.eval.results import Row


def _row(seed, task, method, returns, **extra):
    return Row(seed, task, method, list(returns), [r / 2 for r in returns], extra)


def _rows():
    rows = []
    for seed in (0, 1, 2):
        base = np.array([10.0, 30.0, 50.0, 70.0]) + seed
        for task, scale in (("a", 1.0), ("b", 2.0)):
            rows.append(_row(seed, task, "fb", scale * base, ope_ratio=1.0 + seed,
                             ope_fb_value=2.0, ope_c_z=1.0, ope_ess=0.5, ope_max_w=3.0,
                             ope_frac_negative=0.1))
            # zol = fb + 5 on every episode: a paired difference of exactly 5.
            rows.append(_row(seed, task, "zol_selected", scale * base + 5, ope_ratio=3.0,
                             ope_fb_value=2.0, ope_c_z=1.0, ope_ess=0.5, ope_max_w=3.0,
                             ope_frac_negative=0.1))
            rows.append(_row(seed, task, "td3", [200.0] * 4 if task == "a" else [0.5] * 4))
            rows.append(_row(seed, task, "random", [0.0] * 4))
        rows.append(_row(seed, "a", "zol_grid_0", [0.0] * 4))  # grid rows are not reported
    return rows


def test_summary_means_paired_differences_and_oracles():
    s = summarize(_rows(), reps=300)
    fb = s.per_task[("a", "fb")]
    assert fb.ret.mean == pytest.approx(41.0) and fb.episodes == 4
    assert fb.ret.lo < 41.0 < fb.ret.hi
    assert fb.discounted.mean == pytest.approx(20.5)
    assert fb.fields["ope_ratio"] == pytest.approx(2.0)  # mean over seeds
    d = s.diffs[("a", "zol_selected")].diff
    assert d.mean == pytest.approx(5.0) and d.lo == pytest.approx(5.0)
    assert s.diffs[("b", "zol_selected")].diff.mean == pytest.approx(5.0)
    assert s.oracle == {"a": True, "b": False}  # td3 earns 0.5 < 1 on b
    assert s.normalised_tasks == ["a"]
    assert "zol_grid_0" not in s.methods
    agg = s.aggregates
    assert agg["td3"].iqm.mean == pytest.approx(1.0)
    assert agg["zol_selected"].poi.mean == pytest.approx(1.0)  # better on every seed
    assert agg["random"].poi.mean == pytest.approx(0.0)


def test_report_tables_show_cis_differences_and_aggregates():
    s = summarize(_rows(), reps=300)
    table = markdown_report(s, "the note")
    assert "| task | fb | zol_selected | td3 | random |" in table
    # Tested over seeds: the per-seed differences are all 5, so the t interval is [5, 5], p 0.
    assert "| a | zol_selected − fb | 5.0 [5.0, 5.0] * | < 0.001 | < 0.001 | " in table
    assert "No oracle on b" in table
    assert "| zol_selected | " in table and "P(method > fb)" in table
    assert table.rstrip().endswith("the note")
    # (J_hat, true discounted) rows: fb (2, 20.5), (2, 41); zol (3, 23), (3, 43.5). Ranks
    # (1.5, 1.5, 3.5, 3.5) against (1, 3, 2, 4): Pearson of the ranks is 2 / sqrt(4 * 5).
    assert ope_rank_correlation(s) == pytest.approx(1 / np.sqrt(5))


def test_an_oracle_that_does_not_beat_random_is_no_oracle():
    rows = [r for r in _rows() if r.method != "random"]
    rows += [_row(seed, "a", "random", [150.0, 250.0, 150.0, 250.0]) for seed in (0, 1, 2)]
    rows += [_row(seed, "b", "random", [0.0] * 4) for seed in (0, 1, 2)]
    s = summarize(rows, reps=300)
    assert s.oracle["a"] is False and not s.aggregates


def test_the_navigator_normalises_where_it_was_evaluated():
    """Task b gets a scripted navigator earning 100: it, not TD3 (0.5, no oracle), normalises b,
    and the per-task table shows fb's return as % of it (b's fb returns are 2 x (10..70) + seed:
    mean 82, so 82%)."""
    rows = _rows() + [_row(seed, "b", "navigator", [100.0] * 4) for seed in (0, 1, 2)]
    s = summarize(rows, reps=300)
    assert s.oracle == {"a": True, "b": True} and s.normalised_tasks == ["a", "b"]
    assert oracle_of(s.per_task, "a") == "td3" and oracle_of(s.per_task, "b") == "navigator"
    assert "navigator" not in s.aggregates  # aggregates need every normalised task (b only)
    table = markdown_report(s, "")
    assert "**% of the oracle** (the scripted navigator / TD3)" in table
    assert "| b | 82% [" in table and "| a | 20% [" in table  # a: 41 of TD3's 200


def test_rewarded_note_gives_each_tasks_span_over_seeds_and_flags_sparse_prompts():
    from fbjax.pipeline.mjx_report import Collection, EvalResult, rewarded_note

    result = EvalResult(domain="d", eval={"inference_samples": 10000},
                        collection=Collection("rnd", 1, 1), seeds=[0, 1], rows=[],
                        rewarded_in_inference_sample={"0": {"near": 130, "far": 3},
                                                      "1": {"near": 109, "far": 12}})
    note = rewarded_note(result)
    assert ("in the 10000 samples that ZOL, rwr and OPE read, over the seeds: near 109-130; "
            "far 3-12." in note)
    assert "Under 10 for far:" in note and "near:" not in note.split("Under")[1]
    every_row = rewarded_note(dataclasses.replace(
        result, eval={"inference_samples": 10000, "reward_prompt": "all"}))
    assert "read (reward inference reads every row), over the seeds" in every_row
    # Results from before the evaluation counted them: no note.
    assert rewarded_note(dataclasses.replace(result, rewarded_in_inference_sample=None)) == ""


def test_a_method_above_the_oracles_ci_is_flagged():
    """Task a's TD3 earns 200; a zol_selected far above it (fb + 500: mean 546) lies wholly above
    TD3's CI, so the report says the oracle is beaten there and only there, by that method."""
    rows = [dataclasses.replace(r, returns=[x + 500 for x in r.returns])
            if r.method == "zol_selected" and r.task == "a" else r for r in _rows()]
    s = summarize(rows, reps=300)
    assert s.oracle_beaten_by == {"a": ["zol_selected"]}
    assert "**The oracle is beaten** on a (by zol_selected)" in markdown_report(s, "")
    clean = summarize(_rows(), reps=300)
    assert clean.oracle_beaten_by == {}
    assert "oracle is beaten" not in markdown_report(clean, "")


def test_seed_level_tests_holm_the_primary_endpoint_and_the_control_arm():
    """Both tasks get an oracle (TD3 200 on a, a navigator 100 on b). zol_selected = fb + 5
    everywhere: per seed the normalised difference is 5/200 on a and 5/100 on b, so the primary
    endpoint (per-seed IQM over two tasks = their mean) differs by 0.0375 on every seed. The
    control arm on a is fb + (1, -1, 3) by seed, so zol_selected - zol_control there is (4, 6, 2)
    per seed: mean 4, sd 2, the t interval 4 +- t(0.975, 2) x 2 / sqrt(3), p 0.074 (scipy's
    one-sample t-test on the three values)."""
    from scipy import stats

    rows = _rows() + [_row(seed, "b", "navigator", [100.0] * 4) for seed in (0, 1, 2)]
    for seed, shift in zip((0, 1, 2), (1.0, -1.0, 3.0), strict=True):
        for task, scale in (("a", 1.0), ("b", 2.0)):
            base = scale * (np.array([10.0, 30.0, 50.0, 70.0]) + seed)
            rows.append(_row(seed, task, "zol_control", base + (shift if task == "a" else 0.0),
                             control_cos_z0=0.99))
    s = summarize(rows, reps=300)
    primary = s.primary[("zol_selected", "fb")].diff
    assert primary.mean == pytest.approx(0.0375) and primary.p < 1e-9  # sd ~ rounding
    claim = s.tests[("a", "zol_selected", "zol_control")]
    t = claim.diff
    reference = stats.ttest_1samp([4.0, 6.0, 2.0], 0.0)
    assert t.mean == pytest.approx(4.0) and t.p == pytest.approx(reference.pvalue)
    assert (t.lo, t.hi) == pytest.approx(tuple(reference.confidence_interval(0.95)))
    assert claim.discounted.mean == pytest.approx(2.0)  # discounted = returns / 2 here
    # Holm over every task x contrast: the family holds the control contrasts too.
    family = {k: v.diff.p for k, v in s.tests.items()}
    assert ("b", "zol_selected", "zol_control") in family and len(family) == 6
    finite = sorted(p for p in family.values() if np.isfinite(p))
    rank = finite.index(t.p)
    assert claim.p_holm >= min(1.0, (len(finite) - rank) * t.p) - 1e-12
    from fbjax.eval.stats import seeds_for_power
    assert claim.seeds_needed == seeds_for_power(2.0, 0.05 * 200.0)
    table = markdown_report(s, "")
    assert "**Primary endpoint** (pre-registered)" in table
    assert "| zol_selected − fb | 0.038 [0.03" in table  # [0.0375, 0.0375] up to rounding
    assert "| a | zol_selected − zol_control | 4.0 [" in table
    assert "**Power**: this run has 3 seeds" in table


def test_ope_rank_correlation_within_each_task():
    """Per task, J_hat against the true discounted return across that task's FB methods: with a
    third method (rwr, J_hat 0.5, the lowest, and the lowest true return: fb - 20), task a ranks
    fb (mean J_hat 2) < zol (3) and rwr lowest, as the true returns do: 1.0. Two methods are too
    few: b has none until rwr is added there too."""
    from fbjax.eval.report import ope_rank_correlation_within_tasks

    ope = dict(ope_fb_value=2.0, ope_c_z=1.0, ope_ess=0.5, ope_max_w=3.0, ope_frac_negative=0.1)
    rows = _rows() + [_row(seed, "a", "rwr", np.array([10.0, 30.0, 50.0, 70.0]) + seed - 20,
                           ope_ratio=0.5, **ope) for seed in (0, 1, 2)]
    within = ope_rank_correlation_within_tasks(summarize(rows, reps=100))
    assert within == {"a": pytest.approx(1.0)}


def test_a_task_where_every_method_earns_the_same_has_no_within_task_correlation():
    from fbjax.eval.report import ope_rank_correlation_within_tasks

    ope = dict(ope_fb_value=2.0, ope_c_z=1.0, ope_ess=0.5, ope_max_w=3.0, ope_frac_negative=0.1)
    rows = [_row(seed, "flat", m, [0.0] * 4, ope_ratio=r, **ope)
            for seed in (0, 1) for m, r in (("fb", 1.0), ("zol_selected", 2.0), ("rwr", 3.0))]
    assert ope_rank_correlation_within_tasks(summarize(rows, reps=50)) == {}


def test_a_number_that_is_not_one_prints_as_a_dash():
    from fbjax.eval.report import _num

    assert _num(float("nan"), ".3f") == "—" and _num(0.12345, ".3f") == "0.123"


def test_results_hold_rows_as_one_array_over_seed_task_method_episode():
    from fbjax.eval.results import AXES, Results

    rows = [_row(1, "a", "fb", [1.0, 2.0], ope_ratio=0.5), _row(0, "a", "fb", [3.0, 4.0],
                                                                 ope_ratio=1.5),
            _row(0, "b", "random", [0.0, 0.0])]
    results = Results.from_rows(rows)
    assert AXES == ("seed", "task", "method", "episode")
    assert (results.seeds, results.tasks, results.methods) == ((0, 1), ("a", "b"),
                                                               ("fb", "random"))
    assert results.returns.shape == (2, 2, 2, 2)
    np.testing.assert_array_equal(results.returns[1, 0, 0], [1.0, 2.0])
    np.testing.assert_array_equal(results.discounted[0, 0, 0], [1.5, 2.0])
    assert results.evaluated.tolist() == [[[True, False], [False, True]],
                                          [[True, False], [False, False]]]
    assert np.isnan(results.returns[1, 1, 1]).all()  # seed 1 never ran random on b
    broken = Results.from_rows([_row(0, "a", "fb", [float("nan"), 1.0])])  # NaN is a result
    assert broken.evaluated.all() and np.isnan(broken.cell("a", "fb").returns[0, 0])
    cell = results.cell("a", "fb")
    assert cell.seeds == [0, 1] and cell.fields["ope_ratio"].tolist() == [1.5, 0.5]
    assert results.cell("b", "fb") is None and results.cell("b", "random").fields == {}
    with pytest.raises(ValueError, match="two rows for seed 0, task 'b', method 'random'"):
        Results.from_rows(rows + [_row(0, "b", "random", [1.0, 1.0])])
    with pytest.raises(ValueError, match=r"rows of \[2, 3\] episodes"):
        Results.from_rows(rows + [_row(2, "b", "random", [1.0, 1.0, 1.0])])
    with pytest.raises(ValueError, match=r"carries \['ope_ratio'\] on some seeds only"):
        Results.from_rows([*rows, _row(2, "a", "fb", [5.0, 6.0])]).cell("a", "fb")
