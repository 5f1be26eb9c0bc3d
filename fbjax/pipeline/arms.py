"""The ZOL arms of the MJX evaluation: which grid setting each task's zol_selected uses (chosen
on the other tasks, or on development seeds), the rows of zol_published / zol_selected made from
the grid's, and the rows of the matched-angle control arm zol_control."""

import dataclasses

import numpy as np

from fbjax.eval.methods import grid_name
from fbjax.eval.results import Row
from fbjax.pipeline.config import EvalConfig
from fbjax.pipeline.rollouts import Rollouts
from fbjax.zol.search import ZOLConfig


@dataclasses.dataclass(frozen=True)
class Choice:
    """zol_selected's grid setting for one task: its index in the grid, its (lr, chi2_coef), and
    what chose it: the mean return on the task over the development seeds, or (without them) the
    held-out score on the other tasks. results.json keeps the old form (`to_json`)."""

    index: int
    setting: dict[str, float]
    dev_seed_return: float | None = None
    dev_seeds: list[int] | None = None
    held_out_score: float | None = None

    def to_json(self) -> dict:
        chosen_by = ({"dev_seed_return": self.dev_seed_return, "dev_seeds": self.dev_seeds}
                     if self.dev_seeds is not None else {"held_out_score": self.held_out_score})
        return {"index": self.index, **chosen_by, "setting": self.setting}


def select_settings(rows: list[Row], grid: list[ZOLConfig], tasks: list[str],
                    dev_seeds: tuple[int, ...] = ()) -> dict[str, Choice]:
    """For each task, the grid setting with the best mean score on the *other* tasks: a setting's
    score on a task is its mean true return (all seeds and episodes) rescaled to [0, 1] between
    the worst and best setting there, so every task weighs the same. Ties go to the earlier
    setting (the pre-registered one first). Never reads the task's own returns.
    With `dev_seeds`: the setting with the best mean return on the task itself over those seeds'
    rows only (development seeds, never reported), ties to the earlier setting."""
    if dev_seeds:
        rows = [r for r in rows if r.seed in dev_seeds]
    means = np.zeros((len(grid), len(tasks)))
    for g in range(len(grid)):
        for t, task in enumerate(tasks):
            returns = [r.returns for r in rows if r.method == grid_name(g) and r.task == task]
            means[g, t] = np.mean(returns)
    if dev_seeds:
        return {task: Choice(index=(g := int(np.argmax(means[:, t]))),
                             dev_seed_return=float(means[g, t]), dev_seeds=list(dev_seeds),
                             setting=_setting(grid[g]))
                for t, task in enumerate(tasks)}
    span = means.max(axis=0) - means.min(axis=0)
    scores = np.where(span > 0, (means - means.min(axis=0)) / np.where(span > 0, span, 1), 0.5)
    out = {}
    for t, task in enumerate(tasks):
        others = [u for u in range(len(tasks)) if u != t]
        held_out = scores[:, others].mean(axis=1) if others else np.zeros(len(grid))
        g = int(np.argmax(held_out))
        out[task] = Choice(index=g, held_out_score=float(held_out[g]),
                           setting=_setting(grid[g]))
    return out


def _setting(config: ZOLConfig) -> dict[str, float]:
    """The grid's two axes of a setting."""
    return {"lr": config.lr, "chi2_coef": config.chi2_coef}


def zol_arms(ev: EvalConfig) -> list[str]:
    """The methods that need ZOL's grid (zol_control turns z_r by zol_published's angle)."""
    return [m for m in ("zol_published", "zol_selected", "zol_control") if m in ev.chosen]


def add_zol_arms(rows: list[Row], selection: dict[str, Choice],
                 arms_chosen: list[str]) -> list[Row]:
    """zol_published = grid setting 0; zol_selected = each task's selected setting."""
    arms = []
    for row in rows:
        if row.method == grid_name(0) and "zol_published" in arms_chosen:
            arms.append(row.as_method("zol_published"))
        if "zol_selected" in arms_chosen and \
                row.method == grid_name(selection[row.task].index):
            arms.append(row.as_method("zol_selected"))
    return rows + arms


# The control arm's turns draw from their own stream of the seed's key, so adding the arm changes
# no other method's episodes.
CONTROL_STREAM = 7_919


def add_control(rollouts: Rollouts, seed, out, offset: int, control: np.ndarray, z_r) -> None:
    """zol_control's rows: each episode's return (and discounted return) averaged over the
    `control` draws (K, T, d) rolled out from `offset`, still paired by episode with every
    method; the row keeps cos(z, z_r) of the turns (zol_published's)."""
    draws, tasks = control.shape[:2]

    def averaged(field):
        block = out[field][offset:offset + draws * tasks]
        return block.reshape(draws, tasks, -1).mean(axis=0)

    cos = np.sum(control[0] * z_r, -1) / (np.linalg.norm(control[0], axis=-1)
                                          * np.linalg.norm(z_r, axis=-1))
    rollouts.add(seed, "zol_control", {"return": averaged("return"),
                                       "discounted": averaged("discounted")}, 0,
                 {"control_cos_z0": cos, "control_draws": np.full(tasks, draws)})

