"""The free density ratio of FB policies and what it enables: OPE, ZOL search, weighted
inference."""

from fbjax.zol.ope import fb_value_estimate, ratio_estimate
from fbjax.zol.ratio import (
    RHO0_SOURCES,
    TRANSFORMS,
    density_ratio,
    linear_ratio,
    positive_ratio,
    sample_start_states,
    start_state_mean,
)
from fbjax.zol.search import (
    PUBLISHED,
    START_SETS,
    Measured,
    SearchInfo,
    ZOLConfig,
    ratio_diagnostics,
    ratio_weighted_regression,
    start_sets,
    zol_grid,
    zol_objective,
    zol_search,
)

__all__ = [
    "PUBLISHED",
    "RHO0_SOURCES",
    "START_SETS",
    "TRANSFORMS",
    "Measured",
    "SearchInfo",
    "ZOLConfig",
    "density_ratio",
    "fb_value_estimate",
    "linear_ratio",
    "positive_ratio",
    "ratio_diagnostics",
    "ratio_estimate",
    "ratio_weighted_regression",
    "sample_start_states",
    "start_sets",
    "start_state_mean",
    "zol_grid",
    "zol_objective",
    "zol_search",
]
