"""Half cheetah: DM Control's run and ExoRL's walk / run_backward / walk_backward.

reward = ramp(+/- torso subtree x-velocity, 1 at >= speed, 0 at 0) with speed 10 (run) or 2 (walk).
Reset: limited joints uniform in range, then 200 physics steps to settle, as in DM Control.
"""

import jax.numpy as jnp

from fbjax.envs.base import Domain, body_id, load_model
from fbjax.envs.common import at_least, subtree_linvel

RUN_SPEED, WALK_SPEED = 10.0, 2.0


def make() -> Domain:
    mj_model, model = load_model("cheetah")
    torso = body_id(mj_model, "torso")

    def move(speed, sign):
        def reward(data, action):
            return at_least(sign * subtree_linvel(data, torso)[0], speed, speed, 0.0)
        return reward

    tasks = {"run": move(RUN_SPEED, 1.0), "walk": move(WALK_SPEED, 1.0),
             "run_backward": move(RUN_SPEED, -1.0), "walk_backward": move(WALK_SPEED, -1.0)}
    return Domain(name="cheetah", mj_model=mj_model, model=model, n_substeps=1,
                  observe=lambda d: jnp.concatenate([d.qpos[1:], d.qvel]), tasks=tasks,
                  settle_steps=200)
