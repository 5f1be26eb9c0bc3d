"""The quadruped end to end at smoke-test size: collect 200 noise steps, train FB for 200
updates, evaluate FB on 2 short episodes per task (tests/test_legged.py)."""

import ml_collections

from experiments.configs import tiny_point_mass


def get_config() -> ml_collections.ConfigDict:
    config = tiny_point_mass.get_config()
    config.domain = "quadruped"
    config.workdir = "runs/tiny_quadruped"
    config.collect.update(policy="noise", num_envs=4, num_episodes=1, episode_length=50)
    config.train.update(num_steps=200, steps_per_call=100, save_every=100)
    config.seeds = (0,)
    config.eval.update(methods="fb", num_episodes=2, episode_length=20,
                       num_starts=4)
    return config
