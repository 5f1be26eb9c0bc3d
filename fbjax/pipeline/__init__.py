"""The top floor: collect -> train -> evaluate -> report, for MJX domains (`mjx`) and for finite
MDPs against exact answers (`tabular`), driven by one typed config tree (`config`). Nothing in
fbjax imports this package; the experiment binaries are thin mains over it."""

from fbjax.pipeline.config import (
    EvalConfig,
    ExperimentConfig,
    MDPConfig,
    OracleConfig,
    TabularConfig,
    TabularDataConfig,
    experiment_config,
)

__all__ = ["EvalConfig", "ExperimentConfig", "MDPConfig", "OracleConfig", "TabularConfig",
           "TabularDataConfig", "experiment_config"]
