"""The smallest point-mass config, for smoke tests: short episodes, tiny networks, few steps."""

import ml_collections

from experiments.configs import point_mass


def get_config() -> ml_collections.ConfigDict:
    config = point_mass.get_config()
    config.workdir = "runs/tiny_point_mass"
    config.collect.update(policy="rnd", num_envs=4, num_episodes=2, episode_length=100)
    config.collect.rnd.update(hidden=16, rep_dim=8, updates_per_episode=5)
    config.collect.rnd.td3.update(hidden=16, layers=1)
    config.fb.update(z_dim=8, backward_hidden=16, forward_hidden=16, actor_hidden=16,
                     batch_size=32)
    config.train.update(num_steps=20, steps_per_call=10, save_every=10)
    config.oracle.td3.update(hidden=16, layers=1, batch_size=32)
    config.oracle.train.update(num_steps=20, steps_per_call=10, save_every=10)
    config.seeds = (0, 1)
    config.eval.update(num_episodes=2, episode_length=50, inference_samples=200, num_starts=4,
                       rwr_iterations=2, grid_lr=(1e-3,), grid_chi2_coef=(0.0,),
                       bootstrap_reps=200)
    config.eval.zol.update(steps=5)
    return config
