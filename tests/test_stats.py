"""The evaluation statistics on hand-made data with known answers."""

import numpy as np
import pytest

from fbjax.eval.stats import aggregate_scores, hierarchical_bootstrap, paired_difference, separates


def test_paired_difference_finds_a_small_effect_hidden_by_start_state_spread():
    """a = b + 1 on every episode, with start states spreading returns by +-50: the unpaired CIs
    overlap, the paired difference's CI is positive and near 1."""
    rng = np.random.default_rng(0)
    b = rng.normal(100.0, 50.0, (3, 40))
    a = b + 1.0 + rng.normal(0.0, 0.1, b.shape)
    diff = paired_difference(a, b)
    assert separates(diff) and diff["lo"] > 0.9 and diff["hi"] < 1.1
    ca, cb = hierarchical_bootstrap(a), hierarchical_bootstrap(b)
    assert ca["lo"] < cb["hi"]  # unpaired, the two cannot be told apart
    worse = paired_difference(b, a)
    assert worse["hi"] < 0
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
        covered += ci["lo"] <= 0.0 <= ci["hi"]
    assert 0.85 <= covered / reps <= 0.99


def test_bootstrap_resamples_seeds_not_only_episodes():
    """Two seeds at 0 and 10 with no episode noise: an episode-only bootstrap would give a zero-
    width interval; resampling seeds spans both."""
    values = np.concatenate([np.zeros((1, 50)), np.full((1, 50), 10.0)])
    ci = hierarchical_bootstrap(values)
    assert ci["mean"] == 5.0 and ci["lo"] == 0.0 and ci["hi"] == 10.0
    with pytest.raises(ValueError, match="seeds, episodes"):
        hierarchical_bootstrap(np.zeros(5))


def test_rliable_aggregates_on_known_scores():
    """IQM and mean of constant scores are the constant (the mean of a 0/1 task split is its
    share of ones); a method better on every run and task improves with probability 1, an
    identical one with probability 1/2."""
    scores = {"fb": np.full((3, 5), 0.5), "better": np.full((3, 5), 0.8),
              "same": np.full((3, 5), 0.5), "split": np.tile([1.0, 0, 0, 0, 0], (3, 1))}
    out = aggregate_scores(scores, "fb", reps=200)
    assert out["fb"]["iqm"] == pytest.approx(0.5) and out["fb"]["mean_hi"] == pytest.approx(0.5)
    assert out["split"]["mean"] == pytest.approx(0.2)
    assert out["better"]["iqm_lo"] == pytest.approx(0.8)
    assert out["better"]["poi"] == pytest.approx(1.0)
    assert out["same"]["poi"] == pytest.approx(0.5)
    assert "poi" not in out["fb"]


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
