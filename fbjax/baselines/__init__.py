"""Agents that see a reward or explore: TD3 (the offline oracle) and RND (the explorer)."""

from fbjax.baselines.fqe import FQE, FQEConfig, FQEState
from fbjax.baselines.rnd import RND, RNDConfig, RNDState
from fbjax.baselines.td3 import TD3, TD3Config, TD3State

__all__ = ["FQE", "FQEConfig", "FQEState", "RND", "RNDConfig", "RNDState", "TD3", "TD3Config",
           "TD3State"]
