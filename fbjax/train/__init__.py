"""The one impure training loop for every agent: runs (build or resume), checkpoints, metrics on
disk, sharding over devices and processes, many seeds in one program."""

from fbjax.train.checkpoint import Checkpointer, read_config
from fbjax.train.export import export_fb, load_export
from fbjax.train.loop import fit, print_progress
from fbjax.train.run import PARALLEL, FBRun, TrainConfig, load_fb, train_run
from fbjax.train.seeds import train_runs, train_seeds

__all__ = ["PARALLEL", "Checkpointer", "FBRun", "TrainConfig", "export_fb", "fit", "load_export",
           "load_fb", "print_progress", "read_config", "train_run", "train_runs", "train_seeds"]
