"""The smallest point-mass pipeline config, for smoke tests: a few short episodes, tiny nets."""

import ml_collections

from experiments.configs import point_mass


def get_config() -> ml_collections.ConfigDict:
    config = point_mass.get_config()
    config.workdir = "runs/tiny_point_mass"
    config.collect.update(num_envs=4, num_episodes=2, episode_length=100)
    config.collect.rnd.update(hidden=16, rep_dim=8, updates_per_episode=5)
    config.collect.rnd.td3.update(hidden=16, layers=1)
    return config
