"""Training loop, checkpoints and progress."""

from fbjax.train.checkpoint import Checkpointer, read_config
from fbjax.train.loop import print_progress, train

__all__ = ["Checkpointer", "print_progress", "read_config", "train"]
