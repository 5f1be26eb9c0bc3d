"""Finite MDPs with exact ground truth (SPEC section 6)."""

from fbjax.tabular.dataset import TabularData, collect
from fbjax.tabular.exact import (
    density_ratio,
    discounted_return,
    greedy_policy,
    occupancy,
    policy_transition,
    q_values,
    successor_measure,
    uniform_policy,
)
from fbjax.tabular.mdp import GRID_ACTION_NAMES, FiniteMDP, four_rooms, random_mdp

__all__ = [
    "GRID_ACTION_NAMES",
    "FiniteMDP",
    "TabularData",
    "collect",
    "density_ratio",
    "discounted_return",
    "four_rooms",
    "greedy_policy",
    "occupancy",
    "policy_transition",
    "q_values",
    "random_mdp",
    "successor_measure",
    "uniform_policy",
]
