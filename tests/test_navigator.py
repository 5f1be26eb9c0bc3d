"""The point-mass maze's scripted navigator, the yardstick of the maze's reach tasks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fbjax.envs as envs
from fbjax.eval.evaluator import make_evaluator, navigator_policy


def test_the_navigator_reaches_every_rooms_target_and_stays():
    """From the maze's starts (top-left room), every reach target, the diagonally opposite one
    included (two gaps away), is reached and held: the reward is zero beyond 3 cm of the target,
    so a return above 400 means at least 400 of the 1000 steps were spent within 3 cm of it."""
    domain = envs.make("point_mass_maze")
    tasks = list(domain.task_names)
    goals = jnp.asarray(envs.navigator_goals(domain.name, tasks))
    evaluate = make_evaluator(domain, navigator_policy(), 3)
    returns = np.asarray(evaluate(None, goals, jnp.arange(len(tasks)),
                                  jax.random.PRNGKey(0))["return"])
    assert returns.min() > 400, dict(zip(tasks, returns.round(1).tolist(), strict=True))


def test_navigator_goals_refuse_a_domain_or_task_without_one():
    assert envs.navigator_goals("point_mass_maze", ["reach_bottom_right"]) == [(0.15, -0.15)]
    with pytest.raises(ValueError, match="only point_mass_maze has one"):
        envs.navigator_goals("point_mass", ["reach_top_left"])
    with pytest.raises(ValueError, match=r"no scripted navigator for \['loop'\]"):
        envs.navigator_goals("point_mass_maze", ["loop"])
