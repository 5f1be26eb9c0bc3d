"""The embedded default (the README's main command): FB on the 7x7 four-rooms gridworld.

40 states, 5 actions (stay, up, down, left, right), slip 0.1, one-hot states, d = 48 >= |S|;
50k transitions of the uniform policy from uniform start states. One F member (K = 1): the data
cover every (s, a), so there is nothing for ensemble pessimism to guard against, and it halves the
cost of a step on the CPU.
"""

import ml_collections

from fbjax.fb import FBConfig


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.seed = 0
    config.workdir = "runs/tabular"
    config.env = ml_collections.ConfigDict({"name": "four_rooms", "size": 7, "slip": 0.1})
    config.data = ml_collections.ConfigDict(
        {"num_episodes": 1000, "episode_length": 50, "seed": 0})
    fb = FBConfig(z_dim=48, backward_hidden=128, backward_layers=2, forward_hidden=256,
                  forward_layers=1, actor_hidden=2, actor_layers=0, ensemble_size=1,
                  discount=0.9, tau=0.01, lr_forward=1e-3, lr_backward=1e-3, batch_size=512)
    config.fb = ml_collections.ConfigDict(fb.to_dict())
    # Gradient steps per phase (0 skips it): policy evaluation of the uniform behaviour policy,
    # then control (pi_z greedy in F(s, a, z) . z).
    config.phases = ml_collections.ConfigDict({"policy_eval": 2000, "control": 10000})
    config.steps_per_call = 1000
    config.save_every = 1000  # checkpoint every N steps (a multiple of steps_per_call)
    config.keep_checkpoints = 3  # the last K are kept
    config.num_goals = 8
    # Data-parallel training over all devices of all processes (always on with several
    # processes); the global batch is per_device_batch x devices (0: fb.batch_size / devices).
    config.sharded = False
    config.per_device_batch = 0
    return config
