"""The finite-MDP config: FB on the 7x7 four-rooms gridworld, against exact answers.

40 states, 5 actions (stay, up, down, left, right), slip 0.1, one-hot states, d = 48 >= |S|;
50k transitions of the uniform policy from uniform start states. One F member (K = 1): the data
cover every (s, a), so there is nothing for ensemble pessimism to guard against, and it halves the
cost of a step on the CPU.
"""

import dataclasses

import ml_collections

from fbjax.fb import FBConfig
from fbjax.pipeline.config import MDPConfig, TabularConfig, TabularDataConfig
from fbjax.train import TrainConfig


def get_config() -> ml_collections.ConfigDict:
    config = TabularConfig(
        seed=0,
        workdir="runs/tabular",
        env=MDPConfig(name="four_rooms", size=7, slip=0.1),
        data=TabularDataConfig(num_episodes=1000, episode_length=50, seed=0),
        fb=FBConfig(z_dim=48, backward_hidden=128, backward_layers=2, forward_hidden=256,
                    forward_layers=1, actor_hidden=2, actor_layers=0, ensemble_size=1,
                    discount=0.9, tau=0.01, lr_forward=1e-3, lr_backward=1e-3, batch_size=512),
        # Gradient steps of policy evaluation of the uniform behaviour policy (0 skips it), then
        # train.num_steps of control (pi_z greedy in F(s, a, z) . z).
        policy_eval_steps=2000,
        # parallel="sharded" trains data-parallel over all devices of all processes (always on
        # with several processes); the global batch stays fb.batch_size.
        train=TrainConfig(num_steps=10_000, steps_per_call=1000, save_every=1000,
                          keep_checkpoints=3),
        num_goals=8,
    )
    return ml_collections.ConfigDict(dataclasses.asdict(config))
