"""The point-mass maze at the published FB settings, for an accelerator (REFERENCES.md, FB
training at the scale that works): B on (x, y), z_dim 100, full-size networks (F and actor
1024, B 256 x 2), lr F 1e-4 with the small point-mass rates B 1e-6 and actor 1e-6, tau 0.01,
discount 0.99, batch 1024, 1M updates. Four seeds train in one program; the data are the main
command's 1M RND transitions from anywhere-starts (the papers use ExoRL's 5M: import them with
python -m fbjax.data.exorl into WORKDIR/dataset and the pipeline keeps them). The scripted
navigator is the oracle. About 1M x 4 seed-updates: hours on one GPU, far beyond a 2-core CPU.

  python -m experiments.pipeline --config=experiments/configs/point_mass_maze_reference.py
"""

import dataclasses

from experiments.configs import point_mass_maze
from fbjax.envs.point_mass_maze import GOAL_XY
from fbjax.fb import FBConfig


def get_config():
    config = point_mass_maze.get_config()
    config.workdir = "runs/point_mass_maze_reference"
    config.fb = dataclasses.asdict(FBConfig(z_dim=100, discount=0.99, lr_forward=1e-4,
                                            lr_backward=1e-6, lr_actor=1e-6, batch_size=1024,
                                            goal_indices=GOAL_XY))
    config.train.update(num_steps=1_000_000, steps_per_call=5000, save_every=50_000,
                        parallel="seeds")
    return config
