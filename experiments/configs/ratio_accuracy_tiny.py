"""The smallest ratio-accuracy config, for the smoke test."""

from experiments.configs import ratio_accuracy, tiny


def get_config():
    config = ratio_accuracy.get_config()
    small = tiny.get_config().to_dict()
    small["policy_eval_steps"] = 0
    config.mdps = {"four_rooms": small}
    config.num_goal_prompts = 2
    config.num_reward_prompts = 2
    config.num_samples = 200
    config.num_starts = 16
    config.dice_settings = ((1e-2, 20),)
    config.dice_batch_size = 32
    return config
