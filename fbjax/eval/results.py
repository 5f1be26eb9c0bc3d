"""The report's types: the evaluation's rows, the rows as arrays per (task, method), and the
summary that `fbjax.eval.report.summarize` makes of them (what `markdown_report`, the figures and
summary.json read). `as_dict` gives each one's summary.json form."""

from __future__ import annotations

import dataclasses

import numpy as np

# The per-seed scalars a row may carry beside its returns: the free ratio's off-policy estimates
# (every FB prompt) and ZOL's diagnostics (the ZOL arms).
OPE_FIELDS = ("ope_ratio", "ope_fb_value", "ope_c_z", "ope_ess", "ope_max_w",
              "ope_frac_negative")
ZOL_FIELDS = ("zol_cos_z0", "zol_ess", "zol_chi2", "zol_max_w", "zol_frac_negative", "zol_c_z",
              "zol_weighted_reward_z0", "zol_weighted_reward", "zol_objective_z0",
              "zol_objective", "control_cos_z0")


@dataclasses.dataclass(frozen=True)
class Row:
    """One seed's episodes of one method on one task: returns and discounted returns per episode
    (paired by episode across methods), and the per-seed scalars the method carries (`fields`:
    the OPE_FIELDS of every FB prompt, the ZOL arms' ZOL_FIELDS and grid `setting`, the control
    arm's control_cos_z0 / control_draws). In results.json a row is one flat object."""

    seed: int
    task: str
    method: str
    returns: list[float]
    discounted: list[float]
    fields: dict[str, float] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict:
        return {"seed": self.seed, "task": self.task, "method": self.method,
                "returns": self.returns, "discounted": self.discounted, **self.fields}

    @classmethod
    def from_json(cls, obj: dict) -> Row:
        core = {f.name for f in dataclasses.fields(cls)} - {"fields"}
        return cls(**{k: obj[k] for k in core}, fields={k: v for k, v in obj.items()
                                                       if k not in core})

    def as_method(self, method: str) -> Row:
        """The same episodes under another method's name (an arm that reuses a grid setting)."""
        return dataclasses.replace(self, method=method)


@dataclasses.dataclass(frozen=True)
class Cell:
    """One (task, method)'s rows: returns and discounted returns (seeds, episodes), seeds in
    order, and each per-seed field (seeds,) its rows carry."""

    seeds: list[int]
    returns: np.ndarray
    discounted: np.ndarray
    fields: dict[str, np.ndarray]

    @property
    def episodes(self) -> int:
        return int(self.returns.shape[1])

    def paired_with(self, other: Cell) -> bool:
        """Same seeds and episodes: the paired contrasts of `fbjax.eval.claims` apply."""
        return self.seeds == other.seeds and self.returns.shape == other.returns.shape


AXES = ("seed", "task", "method", "episode")


@dataclasses.dataclass(frozen=True)
class Results:
    """Every evaluated episode as one array over (seed, task, method, episode) (AXES; the names
    of each axis in `seeds`, `tasks`, `methods`), which (seed, task, method) was evaluated
    (`evaluated`; the others hold NaN), and each per-seed field over (seed, task, method) with
    where a row carries it (`carries`). Episodes are paired across methods by index."""

    seeds: tuple[int, ...]
    tasks: tuple[str, ...]
    methods: tuple[str, ...]
    returns: np.ndarray  # (S, T, M, E)
    discounted: np.ndarray  # (S, T, M, E)
    evaluated: np.ndarray  # (S, T, M) bool
    fields: dict[str, np.ndarray]  # name -> (S, T, M)
    carries: dict[str, np.ndarray]  # name -> (S, T, M) bool

    @classmethod
    def from_rows(cls, rows: list[Row]) -> Results:
        """The rows of an evaluation (tasks and methods in order of appearance, seeds sorted)."""
        if not rows:
            raise ValueError("Results.from_rows: no rows")
        episodes = {len(r.returns) for r in rows}
        if len(episodes) != 1:
            raise ValueError(f"Results.from_rows: rows of {sorted(episodes)} episodes; every "
                             "(seed, task, method) must have the same number")
        seeds = tuple(sorted({r.seed for r in rows}))
        tasks = tuple(dict.fromkeys(r.task for r in rows))
        methods = tuple(dict.fromkeys(r.method for r in rows))
        names = tuple(dict.fromkeys(f for r in rows for f in r.fields))
        shape = (len(seeds), len(tasks), len(methods))
        returns, discounted = np.full((2, *shape, episodes.pop()), np.nan)
        evaluated = np.zeros(shape, bool)
        fields = {f: np.full(shape, np.nan) for f in names}
        carries = {f: np.zeros(shape, bool) for f in names}
        for r in rows:
            at = (seeds.index(r.seed), tasks.index(r.task), methods.index(r.method))
            if evaluated[at]:
                raise ValueError(f"Results.from_rows: two rows for seed {r.seed}, task "
                                 f"{r.task!r}, method {r.method!r}")
            returns[at], discounted[at], evaluated[at] = r.returns, r.discounted, True
            for f, v in r.fields.items():
                fields[f][at], carries[f][at] = v, True
        return cls(seeds, tasks, methods, returns, discounted, evaluated, fields, carries)

    def cell(self, task: str, method: str) -> Cell | None:
        """(task, method)'s seeds as a `Cell`; None where no seed evaluated it. Its fields are
        those its first seed's row carries."""
        t, m = self.tasks.index(task), self.methods.index(method)
        have = np.flatnonzero(self.evaluated[:, t, m])
        if not len(have):
            return None
        kept = [f for f in CELL_FIELDS if f in self.fields and self.carries[f][have[0], t, m]]
        missing = [f for f in kept if not self.carries[f][have, t, m].all()]
        if missing:
            raise ValueError(f"Results: {task!r} {method!r} carries {missing} on some seeds only")
        return Cell([self.seeds[s] for s in have], self.returns[have, t, m],
                    self.discounted[have, t, m], {f: self.fields[f][have, t, m] for f in kept})


CELL_FIELDS = (*OPE_FIELDS, *ZOL_FIELDS)  # the per-seed fields the report's cells keep


def cells(rows: list[Row]) -> dict[tuple[str, str], Cell]:
    """(task, method) -> its `Cell`, from the evaluate stage's rows, in order of appearance."""
    results = Results.from_rows(rows)
    pairs = dict.fromkeys((r.task, r.method) for r in rows)
    return {(task, method): results.cell(task, method) for task, method in pairs}


@dataclasses.dataclass(frozen=True)
class Interval:
    """A mean with its 95% interval."""

    mean: float
    lo: float
    hi: float

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One (task, method) of the summary: return and discounted return with their
    hierarchical-bootstrap CIs, and the mean over seeds of each per-seed field."""

    ret: Interval
    discounted: Interval
    seeds: list[int]
    episodes: int
    fields: dict[str, float]

    def as_dict(self) -> dict:
        return {"return": self.ret.as_dict(), "discounted": self.discounted.as_dict(),
                "seeds": self.seeds, "episodes": self.episodes, **self.fields}


@dataclasses.dataclass(frozen=True)
class SeedTest:
    """`fbjax.eval.stats.seed_level_test`'s paired difference over seeds."""

    mean: float
    lo: float
    hi: float
    p: float
    sd: float
    seeds: int
    per_seed: list[float]

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Claim:
    """A tested contrast: the undiscounted paired difference over seeds (its mean, t interval,
    p), the discounted one beside it, the seeds a t-test needs for the effect worth seeing
    (None: no oracle to scale it), and the Holm-adjusted p within its family."""

    diff: SeedTest
    discounted: SeedTest
    seeds_needed: int | None
    p_holm: float = float("nan")

    def as_dict(self) -> dict:
        return {**self.diff.as_dict(), "discounted": self.discounted.as_dict(),
                "seeds_needed": self.seeds_needed, "p_holm": self.p_holm}


@dataclasses.dataclass(frozen=True)
class Aggregate:
    """rliable's aggregates of one method's oracle-normalised scores: the IQM and the mean with
    their 95% stratified-bootstrap CIs, and P(method > baseline) with its CI (None for the
    baseline itself). summary.json keeps the flat form (iqm, iqm_lo, iqm_hi, mean, ...)."""

    iqm: Interval  # `mean` of each is the point estimate (here the IQM, or P(improvement))
    mean: Interval
    poi: Interval | None = None

    def as_dict(self) -> dict:
        out = {}
        for name in ("iqm", "mean", "poi"):
            if (e := getattr(self, name)) is not None:
                out.update({name: e.mean, f"{name}_lo": e.lo, f"{name}_hi": e.hi})
        return out


@dataclasses.dataclass(frozen=True)
class Summary:
    """What `summarize` finds: the tasks and methods in the report's order, an `Entry` per
    (task, method), the seed-level claims per (task, method, against) with those against fb
    (`diffs`, per (task, method)) and the primary endpoint's per (method, against), which tasks
    have an oracle (and where a method beats it), and rliable's aggregates over those tasks (or,
    where rliable is not installed, why they were skipped)."""

    tasks: list[str]
    methods: list[str]
    per_task: dict[tuple[str, str], Entry]
    diffs: dict[tuple[str, str], Claim]
    tests: dict[tuple[str, str, str], Claim]
    primary: dict[tuple[str, str], Claim]
    oracle: dict[str, bool]
    normalised_tasks: list[str]
    oracle_beaten_by: dict[str, list[str]]
    aggregates: dict[str, Aggregate]
    aggregates_skipped: str | None = None

    def as_dict(self) -> dict:
        """summary.json's form: lists of records keyed by task / method / against."""
        return {"per_task": [{"task": t, "method": m, **e.as_dict()}
                             for (t, m), e in self.per_task.items()],
                "seed_level_tests": [{"task": t, "method": m, "against": a, **c.as_dict()}
                                     for (t, m, a), c in self.tests.items()],
                "primary_endpoint": [{"method": m, "against": a, **c.as_dict()}
                                     for (m, a), c in self.primary.items()],
                "oracle": self.oracle, "oracle_beaten_by": self.oracle_beaten_by,
                "aggregates": ({"unavailable": self.aggregates_skipped} if self.aggregates_skipped
                               else {m: a.as_dict() for m, a in self.aggregates.items()})}
