"""Quadruped (flat ground) on an accelerator: as walker.py (RND data, full-size FB with the
published quadruped latent size z = 50, TD3 oracles), tasks stand, walk, run and jump.

  python -m experiments.pipeline --config=experiments/configs/quadruped.py
"""

import ml_collections

from experiments.configs import walker


def get_config() -> ml_collections.ConfigDict:
    config = walker.get_config()
    config.domain = "quadruped"
    config.workdir = "runs/quadruped"
    config.fb.z_dim = 50  # REFERENCES.md: 100 walker / point mass, 50 cheetah / quadruped
    return config
