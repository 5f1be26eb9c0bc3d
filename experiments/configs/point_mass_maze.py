"""The point-mass maze on 2 CPU cores: ExoRL's four-room point mass (fbjax/envs/point_mass_maze.py)
with RND data, otherwise the main command's settings.

  python -m experiments.pipeline --config=experiments/configs/point_mass_maze.py

Data: RND from 32 environments x 64 episodes of 1000 steps (2,048,000 transitions), the explorer
learning every 100 steps (the smallest budget that reached all four rooms:
experiments/results/rnd_coverage_point_mass_maze_64ep.md). FB, TD3 oracle and evaluation: the
main command's (point_mass.py) settings unchanged, on the maze's four reach tasks; nothing here was
chosen on a maze return.

Oracle: the scripted navigator (fbjax.envs.point_mass_maze.navigator, PD control through the gaps),
evaluated beside TD3 and normalising the reach tasks in TD3's place: TD3 trained offline on these
sparse rewards for 8k updates does not beat random outside the start room.
"""

from experiments.configs import point_mass


def get_config():
    config = point_mass.get_config()
    config.domain = "point_mass_maze"
    config.workdir = "runs/point_mass_maze"
    config.collect.update(policy="rnd", num_envs=32, num_episodes=64)
    config.collect.rnd.update(updates_per_episode=500, segment_length=100)
    config.eval.methods = "fb,zol_published,zol_selected,rwr,td3,navigator,random"
    return config
