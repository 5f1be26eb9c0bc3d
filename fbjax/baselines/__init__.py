"""Baselines that see the reward at training time: TD3 (the offline oracle)."""

from fbjax.baselines.td3 import TD3, TD3Config, TD3State

__all__ = ["TD3", "TD3Config", "TD3State"]
