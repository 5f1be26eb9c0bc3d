"""Planar walker: DM Control's stand/walk/run and ExoRL's flip, plus spin (a backward flip).

stand = (3 * tolerance(torso z, [1.2, inf), margin 0.6) + (1 + torso zz) / 2) / 4;
walk/run = stand * (5 * ramp(subtree x-velocity to 1 / 8 m/s) + 1) / 6;
flip/spin = stand * (5 * ramp(+/- torso subtree y-angular momentum to 5) + 1) / 6.
Control step 0.025 s = 10 physics steps of 0.0025 s, as in DM Control.
"""

import jax.numpy as jnp

from fbjax.envs.base import Domain, body_id, load_model
from fbjax.envs.common import at_least, subtree_angmom, subtree_linvel
from fbjax.envs.rewards import tolerance

STAND_HEIGHT, WALK_SPEED, RUN_SPEED, SPIN_SPEED = 1.2, 1.0, 8.0, 5.0


def make() -> Domain:
    mj_model, model = load_model("walker", timestep=0.0025)
    torso = body_id(mj_model, "torso")

    def stand(data):
        standing = tolerance(data.xpos[torso, 2], bounds=(STAND_HEIGHT, float("inf")),
                             margin=STAND_HEIGHT / 2)
        upright = (1.0 + data.xmat[torso, 2, 2]) / 2.0
        return (3.0 * standing + upright) / 4.0

    def move(speed):
        def reward(data, action):
            moving = at_least(subtree_linvel(data, torso)[0], speed, speed / 2, 0.5)
            return stand(data) * (5.0 * moving + 1.0) / 6.0
        return reward

    def rotate(sign):
        def reward(data, action):
            turning = at_least(sign * subtree_angmom(data, torso)[1], SPIN_SPEED, SPIN_SPEED, 0.0)
            return stand(data) * (5.0 * turning + 1.0) / 6.0
        return reward

    def observe(data):
        orientations = data.xmat[1:][:, 0, jnp.array([0, 2])].ravel()
        return jnp.concatenate([orientations, data.xpos[torso, 2:3], data.qvel])

    tasks = {"stand": lambda data, action: stand(data), "walk": move(WALK_SPEED),
             "run": move(RUN_SPEED), "flip": rotate(1.0), "spin": rotate(-1.0)}
    return Domain(name="walker", mj_model=mj_model, model=model, n_substeps=10,
                  observe=observe, tasks=tasks)
