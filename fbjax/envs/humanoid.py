"""Humanoid: DM Control's stand, walk and run.

DM Control's 21-joint humanoid (MuJoCo Playground's copy of the XML: Newton solver with 4
iterations and 8 line-search steps instead of 100 / 50, touch sensors dropped). Physics step
0.005 s, control step 0.025 s (5 physics steps), 1000 control steps.

rewards:
  standing = tolerance(head z, [1.4, inf), margin 0.35);
  upright = linear tolerance(torso zz, [0.9, inf), margin 1.9, 0 at margin);
  small_control = (mean quadratic tolerance(action, margin 1) + 4) / 5;
  stand = small_control * standing * upright * mean over x, y of tolerance(com velocity, margin 2);
  walk / run = small_control * standing * upright * (5 * ramp(|horizontal com velocity|,
               1 at 1 / 10 m/s, 0 at 0) + 1) / 6;
with the com velocity of the torso's subtree. An episode starts as DM Control's does: every
limited joint uniform in its range, the root's orientation a normalised U(0, 1)^4 quaternion at the
model's root position, redrawn while any two geoms (or a geom and the floor) penetrate; fbjax
draws `START_CANDIDATES` at once and keeps the first that does not penetrate.

Observation (67 numbers, DM Control's layout): joint angles (21), head height (1), hands' and
feet's positions in the torso frame (12), torso z axis (3), com velocity (3), qvel (27).
Motion-capture tracking tasks (DM Control's CMU humanoid) need motion data fbjax cannot ship.
"""

import jax
import jax.numpy as jnp
import numpy as np
from mujoco import mjx

from fbjax.envs.base import Domain, body_id, load_model, randomize_joints
from fbjax.envs.common import small_control, subtree_linvel
from fbjax.envs.rewards import tolerance

STAND_HEIGHT, WALK_SPEED, RUN_SPEED = 1.4, 1.0, 10.0
# About 75% of DM Control's draws have no contact (2,000 draws of its randomizer counted with
# MuJoCo C's contact count, once, outside the suite), so all 8 candidates penetrate with
# probability about 0.25^8 = 2e-5; then the last one is used.
START_CANDIDATES = 8
EXTREMITIES = ("left_hand", "left_foot", "right_hand", "right_foot")


def penetrates(model: mjx.Model, qpos: jnp.ndarray) -> jnp.ndarray:
    """Whether any contact of the configuration `qpos` has negative distance."""
    data = mjx.collision(model, mjx.kinematics(model, mjx.make_data(model).replace(qpos=qpos)))
    return jnp.any(data._impl.contact.dist < 0)


def make() -> Domain:
    mj_model, model = load_model("humanoid")
    torso, head = body_id(mj_model, "torso"), body_id(mj_model, "head")
    limbs = np.array([body_id(mj_model, name) for name in EXTREMITIES])

    def stand_factor(data):
        standing = tolerance(data.xpos[head, 2], bounds=(STAND_HEIGHT, float("inf")),
                             margin=STAND_HEIGHT / 4)
        upright = tolerance(data.xmat[torso, 2, 2], bounds=(0.9, float("inf")),
                            sigmoid="linear", margin=1.9, value_at_margin=0.0)
        return standing * upright

    def stand(data, action):
        still = tolerance(subtree_linvel(data, torso)[:2], margin=2.0).mean()
        return small_control(action) * stand_factor(data) * still

    def move(speed):
        def reward(data, action):
            velocity = jnp.linalg.norm(subtree_linvel(data, torso)[:2])
            moving = tolerance(velocity, bounds=(speed, float("inf")), margin=speed,
                               value_at_margin=0.0, sigmoid="linear")
            return small_control(action) * stand_factor(data) * (5.0 * moving + 1.0) / 6.0
        return reward

    def observe(data):
        frame = data.xmat[torso]
        extremities = ((data.xpos[limbs] - data.xpos[torso]) @ frame).ravel()
        return jnp.concatenate([data.qpos[7:], data.xpos[head, 2:3], extremities,
                                frame[2], subtree_linvel(data, torso), data.qvel])

    def initial_qpos(key):
        candidates = jax.vmap(lambda k: randomize_joints(mj_model, k))(
            jax.random.split(key, START_CANDIDATES))
        clear = ~jax.vmap(lambda q: penetrates(model, q))(candidates)
        first = jnp.where(clear.any(), jnp.argmax(clear), START_CANDIDATES - 1)
        return candidates[first]

    return Domain(name="humanoid", mj_model=mj_model, model=model, n_substeps=5,
                  observe=observe, tasks={"stand": stand, "walk": move(WALK_SPEED),
                                          "run": move(RUN_SPEED)},
                  initial_qpos=initial_qpos)
