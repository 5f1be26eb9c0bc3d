"""What the experiment binaries share: the --config flag (default: the embedded point-mass maze
config, found from this file so the binaries run from any directory), the multi-process flags, and
the one conversion of the ml_collections config into the typed config tree.

Run them as modules from the repository root: `python -m experiments.pipeline`.
"""

import os
import sys
import traceback

import jax
from absl import flags, logging
from ml_collections import config_flags

from fbjax.pipeline.config import ExperimentConfig, TabularConfig, experiment_config

CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")
CONFIG = config_flags.DEFINE_config_file(
    "config", os.path.join(CONFIGS, "point_mass_maze.py"), "Experiment config file.")
_COORDINATOR = flags.DEFINE_string(
    "coordinator_address", None, "host:port of process 0, for multi-process training.")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", 1, "Number of processes.")
_PROCESS_ID = flags.DEFINE_integer("process_id", 0, "This process's index.")
_HEARTBEAT = flags.DEFINE_integer(
    "heartbeat_timeout", 30, "Multi-process: seconds without a heartbeat after which the other "
    "processes treat a process as dead and stop.")


def read_config(mjx_only: bool = True) -> ExperimentConfig | TabularConfig:
    """Joins the other processes (with --num_processes > 1), quiets orbax's per-file INFO logging
    and returns the typed config tree of --config (an MJX one unless `mjx_only` is False)."""
    logging.set_verbosity(logging.WARNING)
    if _NUM_PROCESSES.value > 1:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value,
                                   heartbeat_timeout_seconds=_HEARTBEAT.value)
        sys.excepthook = _stop_this_process
    config = experiment_config(CONFIG.value.to_dict())
    if mjx_only and not isinstance(config, ExperimentConfig):
        raise ValueError("--config is a finite-MDP config (it has `env`, no `domain`); this "
                         "binary runs MJX configs such as experiments/configs/point_mass.py "
                         "(python -m experiments.train runs tabular ones)")
    return config


def _stop_this_process(kind, error, tb) -> None:
    """A multi-process run whose process fails (often because another one died: its collectives
    then fail here) exits at once with one clear line, instead of waiting at JAX's shutdown
    barrier for the dead process until the heartbeat timeout aborts it."""
    traceback.print_exception(kind, error, tb)
    print(f"fbjax: process {_PROCESS_ID.value} of {_NUM_PROCESSES.value} stops: "
          f"{kind.__name__}: {str(error).splitlines()[0] if str(error) else ''}. If another "
          "process of this run was killed or crashed, this is the expected consequence: start "
          "every process again (training resumes from its last checkpoint).",
          file=sys.stderr, flush=True)
    os._exit(1)
