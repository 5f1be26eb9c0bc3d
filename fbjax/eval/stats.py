"""The statistics of the evaluation protocol (SPEC section 7).

Per task: the mean return of a method with a 95% CI from a hierarchical bootstrap (resample the
training seeds, then the episodes within each drawn seed): a description of where a method sits.
Claims are tested at the level of seeds, the unit that was replicated: a method's paired
difference to another (pairs share a seed and a start state: the evaluator keys episodes by (task,
episode)) is averaged over the episodes of each seed, and the S per-seed means get a Student t
interval and a two-sided p-value with S - 1 degrees of freedom (`seed_level_test`). A hierarchical
bootstrap over 4 seeds has 35 distinct seed resamples and no small-sample correction, so its
intervals are too narrow; `paired_difference` is kept for descriptions, not tests. A family of
tests is corrected with Holm's step-down method (`holm`), and `seeds_for_power` says how many seeds
a paired t-test needs to detect a given difference at 80% power from the per-seed spread.
Across tasks: the IQM of oracle-normalised scores and the probability of improvement, with
rliable's stratified bootstrap over runs (seeds).
"""

import dataclasses

import numpy as np

from fbjax.eval.results import Aggregate, Interval, SeedTest

CONFIDENCE = 0.95


def hierarchical_bootstrap(values: np.ndarray, reps: int = 2000, seed: int = 0,
                           confidence: float = CONFIDENCE) -> Interval:
    """Mean of `values` (S seeds, E episodes) with a percentile CI: each replicate draws S seeds
    with replacement, then E episodes with replacement within each drawn seed."""
    values = np.asarray(values, np.float64)
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"hierarchical_bootstrap: expected a (seeds, episodes) array, got shape "
                         f"{values.shape}")
    seeds, episodes = values.shape
    rng = np.random.default_rng(seed)
    seed_idx = rng.integers(0, seeds, (reps, seeds))
    episode_idx = rng.integers(0, episodes, (reps, seeds, episodes))
    means = values[seed_idx[:, :, None], episode_idx].mean(axis=(1, 2))
    alpha = (1.0 - confidence) / 2
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return Interval(float(values.mean()), float(lo), float(hi))


def paired_difference(a: np.ndarray, b: np.ndarray, reps: int = 2000,
                      seed: int = 0) -> Interval:
    """a - b with its hierarchical-bootstrap CI, a and b (S, E) paired by seed and episode."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired_difference: shapes {a.shape} and {b.shape} are not paired")
    return hierarchical_bootstrap(a - b, reps, seed)


def seed_level_test(a: np.ndarray, b: np.ndarray,
                    confidence: float = CONFIDENCE) -> SeedTest:
    """The paired difference a - b tested over seeds: a and b are (S, E) returns paired by seed
    and episode, or (S,) per-seed values. The S per-seed mean differences d_s give the mean, its
    Student t interval (S - 1 degrees of freedom), the two-sided p-value of mean 0, the sample
    sd of d_s, and d_s themselves. With one seed there is no spread: interval and p are NaN. When
    every d_s is equal (sd 0) the interval is that value and p is 1 if it is 0, else 0."""
    from scipy import stats

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim not in (1, 2) or a.size == 0:
        raise ValueError(f"seed_level_test: expected two equal (seeds,) or (seeds, episodes) "
                         f"arrays, got shapes {a.shape} and {b.shape}")
    per_seed = (a - b).mean(axis=1) if a.ndim == 2 else a - b
    seeds, mean = per_seed.size, float(per_seed.mean())
    nan = float("nan")
    out = SeedTest(mean=mean, lo=nan, hi=nan, p=nan, sd=nan, seeds=seeds,
                   per_seed=per_seed.tolist())
    if seeds < 2:
        return out
    sd = float(per_seed.std(ddof=1))
    if sd == 0.0:
        return dataclasses.replace(out, lo=mean, hi=mean, p=1.0 if mean == 0.0 else 0.0, sd=sd)
    se = sd / np.sqrt(seeds)
    half = float(stats.t.ppf(0.5 + confidence / 2, seeds - 1)) * se
    return dataclasses.replace(out, lo=float(mean - half), hi=float(mean + half), sd=sd,
                               p=float(2 * stats.t.sf(abs(mean) / se, seeds - 1)))


def holm(pvalues: dict) -> dict:
    """Holm's step-down adjustment of a family of p-values {key: p}: the i-th smallest (i = 1..m)
    becomes max over j <= i of min(1, (m - j + 1) p_(j)). Rejecting adjusted p < alpha keeps the
    family-wise error rate at alpha under any dependence. NaN p-values (untestable claims) stay
    NaN and are not counted in m."""
    finite = sorted((p, k) for k, p in pvalues.items() if np.isfinite(p))
    m, running, out = len(finite), 0.0, {k: float("nan") for k in pvalues}
    for i, (p, key) in enumerate(finite):
        running = max(running, min(1.0, (m - i) * p))
        out[key] = running
    return out


def seeds_for_power(sd: float, delta: float, power: float = 0.8, alpha: float = 0.05,
                    max_seeds: int = 10_000) -> int | None:
    """The fewest seeds (>= 2) for which a two-sided paired t-test at level alpha detects a true
    mean difference `delta` with probability `power`, when per-seed differences have standard
    deviation `sd` (the noncentral t distribution; e.g. delta / sd = 0.5 needs 34 seeds, 1 needs
    10). None when sd is not finite or more than max_seeds would be needed."""
    from scipy import stats

    if not np.isfinite(sd) or delta <= 0:
        return None
    if sd == 0.0 or delta / sd > 1e3:  # sd 0 or rounding noise: two seeds detect it
        return 2
    for n in range(2, max_seeds + 1):
        df, nc = n - 1, delta * np.sqrt(n) / sd
        crit = stats.t.ppf(1 - alpha / 2, df)
        if stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc) >= power:
            return n
    return None


def separates(interval: Interval | SeedTest) -> bool:
    """Whether a CI excludes 0."""
    return interval.lo > 0 or interval.hi < 0


def aggregate_scores(scores: dict[str, np.ndarray], baseline: str, reps: int = 2000,
                     seed: int = 0) -> dict[str, Aggregate]:
    """rliable aggregates of normalised scores {method: (runs, tasks)}: the IQM and the mean with
    their 95% stratified-bootstrap CIs, and P(method > baseline) with its CI, for every
    method."""
    import warnings

    from rliable import library as rly
    from rliable import metrics

    state = np.random.RandomState(seed)
    # rliable's stratified bootstraps draw their indices with NumPy's global np.random.choice,
    # not from random_state: seed the global generator for the call (and give the caller's state
    # back), or the CIs change from one call to the next.
    saved = np.random.get_state()
    np.random.seed(seed)
    try:
        with warnings.catch_warnings():  # arch's notice that rliable still passes a RandomState
            warnings.simplefilter("ignore", FutureWarning)
            iqm, iqm_ci = rly.get_interval_estimates(
                scores, lambda x: np.array([metrics.aggregate_iqm(x), metrics.aggregate_mean(x)]),
                reps=reps, random_state=state)
            pairs = {m: (scores[m], scores[baseline]) for m in scores if m != baseline}
            if pairs:
                poi, poi_ci = rly.get_interval_estimates(
                    pairs, metrics.probability_of_improvement, reps=reps, random_state=state)
    finally:
        np.random.set_state(saved)
    def estimate(point, ci, i=0):
        return Interval(float(np.ravel(point)[i]), float(ci[0, i]), float(ci[1, i]))

    return {m: Aggregate(iqm=estimate(iqm[m], iqm_ci[m]), mean=estimate(iqm[m], iqm_ci[m], 1),
                         poi=estimate(poi[m], np.reshape(poi_ci[m], (2, 1))) if m in pairs
                         else None)
            for m in scores}
