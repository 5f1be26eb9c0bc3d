"""Humanoid on an accelerator: as walker.py (RND data, full-size FB, TD3 oracles), tasks stand,
walk and run. Its MJX step collides every pair of 19 capsules and spheres, so collection is
slower than walker's; plan for more environments rather than more steps per environment.

  python -m experiments.pipeline --config=experiments/configs/humanoid.py
"""

import ml_collections

from experiments.configs import walker


def get_config() -> ml_collections.ConfigDict:
    config = walker.get_config()
    config.domain = "humanoid"
    config.workdir = "runs/humanoid"
    return config
