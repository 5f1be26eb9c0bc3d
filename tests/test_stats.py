"""The evaluation statistics on hand-made data with known answers."""

import numpy as np
import pytest

from fbjax.eval.stats import (
    aggregate_scores,
    hierarchical_bootstrap,
    holm,
    paired_difference,
    seed_level_test,
    seeds_for_power,
    separates,
)


def test_paired_difference_finds_a_small_effect_hidden_by_start_state_spread():
    """a = b + 1 on every episode, with start states spreading returns by +-50: the unpaired CIs
    overlap, the paired difference's CI is positive and near 1."""
    rng = np.random.default_rng(0)
    b = rng.normal(100.0, 50.0, (3, 40))
    a = b + 1.0 + rng.normal(0.0, 0.1, b.shape)
    diff = paired_difference(a, b)
    assert separates(diff) and diff.lo > 0.9 and diff.hi < 1.1
    ca, cb = hierarchical_bootstrap(a), hierarchical_bootstrap(b)
    assert ca.lo < cb.hi  # unpaired, the two cannot be told apart
    worse = paired_difference(b, a)
    assert worse.hi < 0
    with pytest.raises(ValueError, match="not paired"):
        paired_difference(a, b[:, :5])


def test_hierarchical_bootstrap_covers_the_true_mean_in_most_repetitions():
    """Seeds shift returns by N(0, 1), episodes add N(0, 1); the true mean is 0. A 95% percentile
    interval with 10 seeds under-covers a little (the seed variance is estimated from 10 draws,
    biased by 9/10), so expect about 90-95%; 300 repetitions put a binomial sd of ~1.5% on the
    rate, and [0.85, 0.99] is 3 sd around that range."""
    rng = np.random.default_rng(1)
    covered = 0
    reps = 300
    for i in range(reps):
        values = rng.normal(0.0, 1.0, (10, 1)) + rng.normal(0.0, 1.0, (10, 20))
        ci = hierarchical_bootstrap(values, reps=1000, seed=i)
        covered += ci.lo <= 0.0 <= ci.hi
    assert 0.85 <= covered / reps <= 0.99


def test_bootstrap_resamples_seeds_not_only_episodes():
    """Two seeds at 0 and 10 with no episode noise: an episode-only bootstrap would give a zero-
    width interval; resampling seeds spans both."""
    values = np.concatenate([np.zeros((1, 50)), np.full((1, 50), 10.0)])
    ci = hierarchical_bootstrap(values)
    assert ci.mean == 5.0 and ci.lo == 0.0 and ci.hi == 10.0
    with pytest.raises(ValueError, match="seeds, episodes"):
        hierarchical_bootstrap(np.zeros(5))


def test_rliable_aggregates_on_known_scores():
    """IQM and mean of constant scores are the constant (the mean of a 0/1 task split is its
    share of ones); a method better on every run and task improves with probability 1, an
    identical one with probability 1/2."""
    scores = {"fb": np.full((3, 5), 0.5), "better": np.full((3, 5), 0.8),
              "same": np.full((3, 5), 0.5), "split": np.tile([1.0, 0, 0, 0, 0], (3, 1))}
    out = aggregate_scores(scores, "fb", reps=200)
    assert out["fb"].iqm.mean == pytest.approx(0.5) and out["fb"].mean.hi == pytest.approx(0.5)
    assert out["split"].mean.mean == pytest.approx(0.2)
    assert out["better"].iqm.lo == pytest.approx(0.8)
    assert out["better"].poi.mean == pytest.approx(1.0)
    assert out["same"].poi.mean == pytest.approx(0.5)
    assert out["fb"].poi is None


def test_aggregate_scores_are_reproducible_and_leave_numpys_global_state_alone():
    """rliable bootstraps with np.random's global generator; the same call must give the same
    CIs every time, whatever the global state was, and give that state back."""
    rng = np.random.default_rng(0)
    scores = {m: rng.random((4, 3)) for m in ("fb", "zol", "rwr")}
    np.random.seed(1)
    first = aggregate_scores(scores, "fb", reps=200)
    after = np.random.random()
    np.random.seed(2)
    assert aggregate_scores(scores, "fb", reps=200) == first
    np.random.seed(1)
    aggregate_scores(scores, "fb", reps=200)
    assert np.random.random() == after  # the global stream goes on as if the call had not run
    assert aggregate_scores(scores, "fb", reps=200, seed=1) != first


def test_seed_level_test_is_the_paired_t_test_over_per_seed_means():
    """The walker study's four per-seed differences of zol_selected - fb on stand (150.5, 62.5,
    12.4, 144.6): mean 92.5, t interval [-13.8, 198.8] with 3 degrees of freedom, p 0.070, as
    scipy's one-sample t-test has it. Per-episode arrays are first averaged within each seed."""
    from scipy import stats

    per_seed = np.array([150.5, 62.5, 12.4, 144.6])
    out = seed_level_test(per_seed, np.zeros(4))
    reference = stats.ttest_1samp(per_seed, 0.0)
    interval = reference.confidence_interval(0.95)
    assert out.mean == pytest.approx(92.5)
    assert out.p == pytest.approx(reference.pvalue) and out.p == pytest.approx(0.0696,
                                                                                      abs=1e-4)
    assert (out.lo, out.hi) == pytest.approx((interval.low, interval.high))
    assert out.seeds == 4 and out.sd == pytest.approx(np.std(per_seed, ddof=1))
    rng = np.random.default_rng(0)
    b = rng.normal(0.0, 5.0, (4, 30))
    a = b + per_seed[:, None] + rng.normal(0.0, 1.0, (4, 30))
    episodes = seed_level_test(a, b)
    assert episodes.per_seed == pytest.approx((a - b).mean(axis=1))
    one = seed_level_test(a[:1], b[:1])
    assert np.isnan(one.p) and np.isnan(one.lo)
    flat = seed_level_test(np.ones((3, 2)), np.zeros((3, 2)))
    assert flat.p == 0.0 and flat.lo == flat.hi == 1.0
    assert seed_level_test(np.ones(3), np.ones(3)).p == 1.0
    with pytest.raises(ValueError, match="equal"):
        seed_level_test(a, b[:, :5])


def test_the_seed_level_interval_covers_at_its_level_where_the_bootstrap_does_not():
    """Four seeds whose effects spread N(0, 1) around a true 0, episodes adding N(0, 1): the t
    interval over seeds is exact for normal seed means, so it covers 0 in 95% of repetitions
    (400 repetitions: binomial sd 1.1%, so [0.91, 0.99] is 3.5 sd around it). The hierarchical
    bootstrap, with 35 distinct seed resamples and no small-sample correction, covers far less
    (83% in these repetitions; asserted below 0.9), which is why it describes and does not test."""
    rng = np.random.default_rng(3)
    t_cover = boot_cover = 0
    reps = 400
    for i in range(reps):
        values = rng.normal(0.0, 1.0, (4, 1)) + rng.normal(0.0, 1.0, (4, 20))
        t = seed_level_test(values, np.zeros_like(values))
        boot = hierarchical_bootstrap(values, reps=500, seed=i)
        t_cover += t.lo <= 0.0 <= t.hi
        boot_cover += boot.lo <= 0.0 <= boot.hi
    assert 0.91 <= t_cover / reps <= 0.99
    assert boot_cover / reps < 0.9


def test_holm_adjusts_a_family_step_down():
    """m = 3 finite p-values 0.01, 0.03, 0.04: 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, then 1 x 0.04
    raised to the running maximum 0.06; a NaN stays NaN and does not count in m."""
    out = holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": float("nan")})
    assert out["a"] == pytest.approx(0.03) and out["c"] == pytest.approx(0.06)
    assert out["b"] == pytest.approx(0.06) and np.isnan(out["d"])
    assert holm({"x": 0.6, "y": 0.7}) == {"x": 1.0, "y": 1.0}  # capped at 1, then monotone
    assert holm({}) == {}


def test_seeds_for_power_matches_the_paired_t_test_tables():
    """Two-sided paired t-test at alpha 0.05 and 80% power: effect sizes delta / sd of 0.5, 0.8
    and 1.0 need 34, 15 and 10 pairs (the standard tables, e.g. G*Power's)."""
    assert [seeds_for_power(1.0, d) for d in (0.5, 0.8, 1.0)] == [34, 15, 10]
    assert seeds_for_power(2.0, 1.0) == 34  # only the ratio matters
    assert seeds_for_power(0.0, 1.0) == 2
    assert seeds_for_power(float("nan"), 1.0) is None
    assert seeds_for_power(1.0, 1e-3, max_seeds=100) is None
