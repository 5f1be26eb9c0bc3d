"""The claims a report tests, tested over seeds (SPEC section 7; `fbjax.eval.stats`).

Every contrast (each FB-family method against `fb`, and the ZOL arms against the matched-angle
control `zol_control` where it was evaluated) is tested on each task, the whole task x contrast
family under Holm's correction, and on the pre-registered primary endpoint: per seed, the IQM
over the tasks with an oracle of the oracle-normalised undiscounted return (discounted beside
it), the contrasts as a second family. Each test carries the seeds a paired t-test needs to
detect +EFFECT of the oracle at POWER.

`data` is the report's {(task, method): `Cell`} (`fbjax.eval.results`); `oracle` maps each task
with an oracle to that oracle's `Scale` (its mean return, undiscounted and discounted).
"""

import dataclasses

import numpy as np

from fbjax.eval.methods import BASELINE, CONTROL, ZOL_ARMS, is_fb_family
from fbjax.eval.results import Cell, Claim
from fbjax.eval.stats import holm, seed_level_test, seeds_for_power

ALPHA = 0.05  # the level a Holm-adjusted p-value is read at
# The smallest effect worth seeing: +5% of the oracle's return (0.05 on the normalised scale).
EFFECT = 0.05
POWER = 0.8


@dataclasses.dataclass(frozen=True)
class Scale:
    """A task's oracle mean return, undiscounted and discounted: what normalises a score
    (named as `Cell`'s attributes, so `getattr(scale, kind)` pairs with `getattr(cell, kind)`)."""

    returns: float
    discounted: float


def contrasts(methods: list[str]) -> list[tuple[str, str]]:
    """The claims a report tests, (method, against): every FB-family method against `fb`, and
    each ZOL arm against the matched-angle control when it was evaluated."""
    if BASELINE not in methods:
        return []
    out = [(m, BASELINE) for m in methods if is_fb_family(m) and m != BASELINE]
    if CONTROL in methods:
        out += [(m, CONTROL) for m in ZOL_ARMS if m in methods]
    return out


def _paired(data: dict[tuple[str, str], Cell], task: str, method: str, against: str) -> bool:
    a, b = data.get((task, method)), data.get((task, against))
    return a is not None and b is not None and a.paired_with(b)


def _test(returns: tuple, discounted: tuple, effect: float | None) -> Claim:
    """a - b over seeds for (a, b) = `returns`, undiscounted with the `discounted` test beside it,
    and the seeds needed to detect `effect` (None: no scale to detect it on)."""
    diff = seed_level_test(*returns)
    return Claim(diff, seed_level_test(*discounted),
                 None if effect is None else seeds_for_power(diff.sd, effect, POWER, ALPHA))


def _with_holm(tests: dict) -> dict:
    adjusted = holm({k: t.diff.p for k, t in tests.items()})
    return {k: dataclasses.replace(t, p_holm=adjusted[k]) for k, t in tests.items()}


def seed_tests(data: dict[tuple[str, str], Cell], tasks: list[str], pairs,
               oracle: dict[str, Scale]) -> dict[tuple[str, str, str], Claim]:
    """{(task, method, against): claim} for every paired contrast, Holm over all of them."""
    def claim(task, method, against):
        a, b = data[(task, method)], data[(task, against)]
        return _test((a.returns, b.returns), (a.discounted, b.discounted),
                     EFFECT * oracle[task].returns if task in oracle else None)

    return _with_holm({(task, method, against): claim(task, method, against)
                       for task in tasks for method, against in pairs
                       if _paired(data, task, method, against)})


def _iqm(scores: np.ndarray) -> np.ndarray:
    """Per row, the interquartile mean over the last axis (rliable's IQM: the 25% trimmed
    mean)."""
    from scipy.stats import trim_mean

    return trim_mean(scores, 0.25, axis=-1)


def primary_endpoint(data: dict[tuple[str, str], Cell], pairs,
                     oracle: dict[str, Scale]) -> dict[tuple[str, str], Claim]:
    """{(method, against): claim} of the per-seed IQM over the tasks of `oracle` of the
    normalised return, for the contrasts paired with the same seeds on every one of them; Holm
    over the contrasts."""
    valid = list(oracle)

    def per_seed(method, kind):
        return _iqm(np.stack([getattr(data[(t, method)], kind).mean(axis=1)
                              / getattr(oracle[t], kind) for t in valid], 1))

    return _with_holm({
        (method, against): _test((per_seed(method, "returns"), per_seed(against, "returns")),
                                 (per_seed(method, "discounted"),
                                  per_seed(against, "discounted")), EFFECT)
        for method, against in pairs if valid
        and all(_paired(data, t, method, against) for t in valid)
        and len({tuple(data[(t, method)].seeds) for t in valid}) == 1})
