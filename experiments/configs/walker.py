"""Walker on an accelerator: RND data from 1024 parallel environments, full-size FB networks
(SPEC section 3 defaults), TD3 oracles, all five tasks. Too slow for a 2-core CPU.

  python -m experiments.pipeline --config=experiments/configs/walker.py
"""

import dataclasses

import ml_collections

from experiments.configs import point_mass
from fbjax.baselines import TD3Config
from fbjax.fb import FBConfig
from fbjax.train import TrainConfig


def get_config() -> ml_collections.ConfigDict:
    config = point_mass.get_config()
    config.domain = "walker"
    config.workdir = "runs/walker"
    config.collect.update(policy="rnd", num_envs=1024, num_episodes=2)
    config.collect.rnd.update(updates_per_episode=1000, buffer_size=1_000_000)
    config.fb = dataclasses.asdict(FBConfig())  # full size, discount 0.98
    config.train.update(num_steps=200_000, steps_per_call=5000, save_every=25_000)
    config.oracle.td3 = dataclasses.asdict(TD3Config(hidden=1024, layers=2, discount=0.98,
                                          batch_size=1024))
    config.oracle.train = dataclasses.asdict(TrainConfig(num_steps=50_000, steps_per_call=5000,
                                              save_every=25_000))
    config.eval.update(num_episodes=50, inference_samples=50_000, num_starts=1024)
    return config
