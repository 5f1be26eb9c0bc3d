"""Hopper: DM Control's stand and hop.

height = torso z - foot z (centres of mass); standing = tolerance(height, [0.6, 2]);
stand = standing * small_control; hop = standing * ramp(subtree x-velocity, 1 at >= 2 m/s).
Control step 0.02 s = 4 physics steps. The observation includes log1p of the two foot touch
sensors, so steps run the full `mjx.forward` (contacts) rather than kinematics only.
"""

import jax.numpy as jnp

from fbjax.envs.base import Domain, body_id, load_model, refresh_full, sensor_slice
from fbjax.envs.common import at_least, small_control, subtree_linvel
from fbjax.envs.rewards import tolerance

STAND_HEIGHT, HOP_SPEED = 0.6, 2.0


def make() -> Domain:
    mj_model, model = load_model("hopper")
    torso, foot = body_id(mj_model, "torso"), body_id(mj_model, "foot")
    toe, heel = sensor_slice(mj_model, "touch_toe"), sensor_slice(mj_model, "touch_heel")

    def standing(data):
        height = data.xipos[torso, 2] - data.xipos[foot, 2]
        return tolerance(height, bounds=(STAND_HEIGHT, 2.0))

    def stand(data, action):
        return standing(data) * small_control(action)

    def hop(data, action):
        return standing(data) * at_least(subtree_linvel(data, torso)[0], HOP_SPEED,
                                         HOP_SPEED / 2, 0.5)

    def observe(data):
        touch = jnp.log1p(jnp.concatenate([data.sensordata[toe], data.sensordata[heel]]))
        return jnp.concatenate([data.qpos[1:], data.qvel, touch])

    return Domain(name="hopper", mj_model=mj_model, model=model, n_substeps=4, observe=observe,
                  tasks={"stand": stand, "hop": hop}, refresh=refresh_full)
