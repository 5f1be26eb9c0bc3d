"""The development tasks: what settings may be chosen on, apart from the tasks the reports use.

On the point-mass maze, one reach goal per room away from the reported targets (DEV_GOALS), the
count of rewarded transitions, and the tables the studies that choose settings on them write
(studies/learning_curve, studies/reward_coverage, studies/maze_selection).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.configs import from_dict
from fbjax.envs.base import geom_id
from fbjax.envs.point_mass import reach_reward
from fbjax.eval.zero_shot import REWARDED_RULE, rewarded_in_sample

# Goals one per room, 9.9 cm or more from every reported target (+-0.15, +-0.15). The reward's
# Gaussian tolerance is 0.1 at 3 cm from its goal, 1e-4 at 4.5 cm and below 1e-31 at 9.9 cm, so no
# development reward overlaps a reported one.
DEV_GOALS = {
    "dev_top_left": (-0.08, 0.22),
    "dev_top_right": (0.22, 0.08),
    "dev_bottom_left": (-0.22, -0.08),
    "dev_bottom_right": (0.08, -0.22),
}
DOMAINS = ("point_mass_maze",)


def dev_domain(domain):
    """The domain with the development reach tasks in place of its own."""
    if domain.name not in DOMAINS:
        raise ValueError(f"no development tasks for domain {domain.name!r}; "
                         f"defined for {', '.join(DOMAINS)}")
    mass = geom_id(domain.mj_model, "pointmass")
    return dataclasses.replace(domain, tasks={name: reach_reward(mass, goal)
                                              for name, goal in DEV_GOALS.items()})


def goal_states(goals) -> jax.Array:
    """The maze's observation (x, y, vx, vy) at each goal, at rest."""
    goals = jnp.asarray(goals, jnp.float32)
    return jnp.concatenate([goals, jnp.zeros_like(goals)], axis=-1)


@dataclasses.dataclass(frozen=True)
class Rewarded:
    """How often each task's reward fires: its share of the dataset's transitions and its count in
    an inference sample of `inference_samples`, by `rule`. Files from before the rule was the
    evaluation's recorded an absolute threshold (`reward_at_least`), the first ones neither."""

    dataset_share: tuple[float, ...]
    rewarded_in_inference_sample: tuple[int, ...]
    inference_samples: int
    rule: str | None = None
    reward_at_least: float | None = None

    def to_json(self) -> dict:
        return {"rule": self.rule, "dataset_share": list(self.dataset_share),
                "rewarded_in_inference_sample": list(self.rewarded_in_inference_sample),
                "inference_samples": self.inference_samples}


def rewarded(rewards: np.ndarray, sample_rewards) -> Rewarded:
    """rewards (N, T) of a dataset, sample_rewards (T, n) of an inference sample -> each task's
    share of rewarded transitions in the dataset and their count in the sample, by the
    evaluation's rule (`fbjax.eval.zero_shot.rewarded_in_sample`; for the reach tasks, the mass
    within about 3 cm of the goal)."""
    rewards = np.asarray(rewards)
    return Rewarded(
        rule=REWARDED_RULE,
        dataset_share=tuple(round(int(n) / len(rewards), 6)
                            for n in rewarded_in_sample(rewards, rewards.T)),
        rewarded_in_inference_sample=tuple(
            int(n) for n in rewarded_in_sample(rewards, sample_rewards)),
        inference_samples=int(np.shape(sample_rewards)[1]))


def rewarded_rule(record: Rewarded | CoverageResult) -> str:
    """The rewarded rule a result was counted by; files from before the rule was the evaluation's
    recorded an absolute threshold, the first curves none (they counted reward > 0)."""
    if record.rule is not None:
        return record.rule
    if record.reward_at_least is not None:
        return f"reward >= {record.reward_at_least}"
    return "reward > 0, which counts the Gaussian tail up to ~10 cm away"


@dataclasses.dataclass(frozen=True)
class CoverageRow:
    kind: str  # "reported" or "development"
    task: str
    dataset_share: float
    in_inference_sample: tuple[int, ...]  # per seed


@dataclasses.dataclass(frozen=True)
class CoverageResult:
    """studies/reward_coverage's result (its .json, read with `from_json`)."""

    domain: str
    dataset_rows: int
    inference_samples: int
    seeds: tuple[int, ...]
    rows: tuple[CoverageRow, ...]
    rule: str | None = None
    reward_at_least: float | None = None

    @classmethod
    def from_json(cls, obj: dict, where: str = "coverage result") -> CoverageResult:
        return from_dict(cls, obj, where, strict=False)


def coverage_table(result: CoverageResult) -> str:
    """studies/reward_coverage's result as markdown."""
    lines = [f"# How often {result.domain}'s rewards fire in the dataset",
             "",
             f"{result.dataset_rows:,} transitions; rewarded = {rewarded_rule(result)}. Reward "
             f"inference uses {result.inference_samples:,} "
             "of them per seed. Command, commit and machine: the provenance in the .json beside "
             "this file.",
             "",
             "| tasks | task | share of the dataset | rewarded in the inference sample, seeds "
             + ", ".join(str(s) for s in result.seeds) + " |",
             "|---|---|---|---|"]
    for row in result.rows:
        counts = ", ".join(str(c) for c in row.in_inference_sample)
        lines.append(f"| {row.kind} | {row.task} | {row.dataset_share:.3%} | {counts} |")
    return "\n".join(lines) + "\n"


@dataclasses.dataclass(frozen=True)
class CurveRow:
    """One checkpoint and prompt of a learning curve: its mean return per development task."""

    updates: int
    train_wall_s: float
    returns: tuple[float, ...]
    mean_return: float
    pct_of_navigator: float
    prompt: str = "reward"  # files from before prompts were a column: reward inference only


@dataclasses.dataclass(frozen=True)
class LearningCurve:
    """studies/learning_curve's result (its .json, read with `from_json`)."""

    domain: str
    seed: int
    tasks: dict[str, tuple[float, ...]]  # development goal per task
    episodes: int
    batch_size: int
    dataset_rows: int
    rows: tuple[CurveRow, ...]
    reference: dict[str, tuple[float, ...]]  # navigator and random, per task
    coverage: Rewarded | None = None

    @classmethod
    def from_json(cls, obj: dict, where: str = "learning curve") -> LearningCurve:
        return from_dict(cls, obj, where, strict=False)


def learning_curve_table(result: LearningCurve) -> str:
    """studies/learning_curve's result as a table."""
    names = list(result.tasks)
    head = ("| updates | training wall s | prompt | " + " | ".join(names)
            + " | mean | % of navigator |")
    lines = [
        f"# FB learning curve on {result.domain}'s development tasks",
        "",
        f"Development seed {result.seed}, {result.dataset_rows:,} transitions, batch "
        f"{result.batch_size}; {result.episodes} paired episodes per prompt. Prompts: "
        "reward = reward inference (the reports' prompt), goal = B(goal at rest). Goals: "
        + ", ".join(f"{k} {tuple(v)}" for k, v in result.tasks.items())
        + ". Command, commit and machine: the provenance in the .json beside this file.",
    ]
    if (cov := result.coverage) is not None:
        lines += ["", f"Rewarded states ({rewarded_rule(cov)}) per goal: " + ", ".join(
            f"{name} {share:.3%} of the dataset ({count} of the {cov.inference_samples} "
            "inference samples)" for name, share, count in
            zip(names, cov.dataset_share, cov.rewarded_in_inference_sample, strict=True))
            + "."]
    lines += ["", head, "|" + "---|" * (len(names) + 5)]
    for row in result.rows:
        lines.append(f"| {row.updates} | {row.train_wall_s} | {row.prompt} | "
                     + " | ".join(str(r) for r in row.returns)
                     + f" | {row.mean_return} | {row.pct_of_navigator} |")
    for name, returns in result.reference.items():
        lines.append(f"| {name} | | | " + " | ".join(str(r) for r in returns)
                     + f" | {round(float(np.mean(returns)), 1)} | |")
    return "\n".join(lines) + "\n"
