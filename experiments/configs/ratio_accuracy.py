"""Ratio accuracy: the free FB ratio vs the exact one vs DualDICE, on the gridworld and a random
MDP, for 50 policies pi_z each (25 goal prompts, 25 random-reward prompts)."""

import ml_collections

from experiments.configs import tabular


def get_config() -> ml_collections.ConfigDict:
    base = tabular.get_config()
    config = ml_collections.ConfigDict()
    config.seed = 0
    config.workdir = "runs/ratio_accuracy"
    gridworld = base.to_dict()
    gridworld["policy_eval_steps"] = 0
    random = dict(gridworld, env={"name": "random", "num_states": 20, "num_actions": 4,
                                  "seed": 0, "branching": 4})
    config.mdps = ml_collections.ConfigDict({"four_rooms": gridworld, "random": random})
    config.num_goal_prompts = 25
    config.num_reward_prompts = 25
    config.num_samples = 5000  # next states the ratio is evaluated on
    config.num_starts = 512  # start states for W_z (n_mu)
    config.sources = ("init", "data", "mix")
    config.transforms = ("linear", "softplus", "exp")
    config.beta = 1.0
    # DualDICE settings tried per policy (lr, steps); the best one is reported next to FB.
    config.dice_settings = ((1e-2, 2000), (1e-2, 5000), (3e-2, 5000), (1e-1, 5000), (3e-2, 20000))
    config.dice_batch_size = 512
    return config
