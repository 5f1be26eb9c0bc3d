"""The smallest config, for smoke tests: a 5x5 four-rooms, tiny networks, a few steps."""

import ml_collections

from experiments.configs import tabular


def get_config() -> ml_collections.ConfigDict:
    config = tabular.get_config()
    config.workdir = "runs/tiny"
    config.env.size = 5
    config.data.num_episodes = 20
    config.data.episode_length = 20
    config.fb.update(z_dim=8, backward_hidden=16, forward_hidden=16, batch_size=16)
    config.policy_eval_steps = 20
    config.train.update(num_steps=20, steps_per_call=10, save_every=10)
    config.num_goals = 2
    return config
