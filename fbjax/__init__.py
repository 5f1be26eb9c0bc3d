"""fbjax: Forward-Backward behavioral foundation models in JAX.

The public API, name by name (what a notebook imports).
"""

from fbjax import dice, envs, eval, tabular, zol
from fbjax.data.relabel import relabel
from fbjax.data.store import load_dataset
from fbjax.fb import (
    FBAgent,
    FBConfig,
    FBNetworks,
    FBState,
    act,
    goal_inference,
    reward_inference,
)
from fbjax.nets import project_z
from fbjax.train import Checkpointer, read_config, train
from fbjax.train.offline import load_fb
from fbjax.types import Transition

__version__ = "0.1.0"

__all__ = [
    "Checkpointer",
    "FBAgent",
    "FBConfig",
    "FBNetworks",
    "FBState",
    "Transition",
    "act",
    "goal_inference",
    "load_dataset",
    "load_fb",
    "project_z",
    "read_config",
    "relabel",
    "reward_inference",
    "dice",
    "envs",
    "eval",
    "tabular",
    "train",
    "zol",
]
