"""Cheetah on an accelerator: as walker.py (RND data, full-size FB, TD3 oracles), four tasks."""

import ml_collections

from experiments.configs import walker


def get_config() -> ml_collections.ConfigDict:
    config = walker.get_config()
    config.domain = "cheetah"
    config.workdir = "runs/cheetah"
    return config
