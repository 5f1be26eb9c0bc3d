"""The statistics of the evaluation protocol (SPEC section 7).

Per task: the mean return of a method with a 95% CI from a hierarchical bootstrap (resample the
training seeds, then the episodes within each drawn seed), and the paired difference of a method to
plain FB, bootstrapped the same way on the per-episode differences (pairs share a seed and a start
state: the evaluator keys episodes by (task, episode)). Across tasks: the IQM of oracle-normalised
scores and the probability of improvement, with rliable's stratified bootstrap over runs (seeds).
"""

import numpy as np

CONFIDENCE = 0.95


def hierarchical_bootstrap(values: np.ndarray, reps: int = 2000, seed: int = 0,
                           confidence: float = CONFIDENCE) -> dict[str, float]:
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
    return {"mean": float(values.mean()), "lo": float(lo), "hi": float(hi)}


def paired_difference(a: np.ndarray, b: np.ndarray, reps: int = 2000,
                      seed: int = 0) -> dict[str, float]:
    """a - b with its hierarchical-bootstrap CI, a and b (S, E) paired by seed and episode."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired_difference: shapes {a.shape} and {b.shape} are not paired")
    return hierarchical_bootstrap(a - b, reps, seed)


def separates(interval: dict[str, float]) -> bool:
    """Whether a CI excludes 0."""
    return interval["lo"] > 0 or interval["hi"] < 0


def aggregate_scores(scores: dict[str, np.ndarray], baseline: str, reps: int = 2000,
                     seed: int = 0) -> dict[str, dict[str, float]]:
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
    out = {m: {"iqm": float(iqm[m][0]), "iqm_lo": float(iqm_ci[m][0, 0]),
               "iqm_hi": float(iqm_ci[m][1, 0]), "mean": float(iqm[m][1]),
               "mean_lo": float(iqm_ci[m][0, 1]), "mean_hi": float(iqm_ci[m][1, 1])}
           for m in scores}
    if pairs:
        for m in pairs:
            lo, hi = np.ravel(poi_ci[m])
            out[m].update(poi=float(np.ravel(poi[m])[0]), poi_lo=float(lo), poi_hi=float(hi))
    return out
