"""The Forward-Backward agent."""

from fbjax.fb.config import FBConfig
from fbjax.fb.inference import act, goal_inference, reward_inference, reward_inference_all
from fbjax.fb.learner import FBAgent, FBState
from fbjax.fb.networks import FBNetworks, FBParams

__all__ = [
    "FBAgent",
    "FBConfig",
    "FBNetworks",
    "FBParams",
    "FBState",
    "act",
    "goal_inference",
    "reward_inference",
    "reward_inference_all",
]
