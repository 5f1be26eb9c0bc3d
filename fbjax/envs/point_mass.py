"""Point mass in DM Control's open arena (walls at +-0.3 m): four reach tasks and a loop.

Reach targets are ExoRL's point-mass-maze goals, (+-0.15, +-0.15) m, with its reward: a 1.5 cm
tolerance on the distance from the mass to the target times DM Control's small-control factor.
`loop` is fbjax's own: circle the centre anticlockwise on the ring of radius 0.15 m through the
four targets, rewarded by closeness to the ring times tangential speed (ramp to 1 at 0.1 m/s).
"""

import functools

import jax.numpy as jnp

from fbjax.envs.base import Domain, geom_id, load_model
from fbjax.envs.common import at_least, small_control
from fbjax.envs.rewards import tolerance

TARGETS = {
    "reach_top_left": (-0.15, 0.15),
    "reach_top_right": (0.15, 0.15),
    "reach_bottom_left": (-0.15, -0.15),
    "reach_bottom_right": (0.15, -0.15),
}
TARGET_SIZE = 0.015
TARGET_Z = 0.01
LOOP_RADIUS, LOOP_WIDTH, LOOP_SPEED = 0.15, 0.03, 0.1


def reach_reward(mass: int, target: tuple[float, float]):
    """DM Control's point-mass reward for the target (x, y): the mass geom within 1.5 cm of it
    (tolerance margin 1.5 cm) times the small-control factor."""
    goal = jnp.array([*target, TARGET_Z])

    def reward(data, action):
        distance = jnp.linalg.norm(goal - data.geom_xpos[mass])
        near = tolerance(distance, bounds=(0.0, TARGET_SIZE), margin=TARGET_SIZE)
        return near * small_control(action)
    return reward


def make() -> Domain:
    mj_model, model = load_model("point_mass")
    mass = geom_id(mj_model, "pointmass")
    reach = functools.partial(reach_reward, mass)

    def loop(data, action):
        xy, vel = data.geom_xpos[mass, :2], data.qvel[:2]
        radius = jnp.linalg.norm(xy)
        on_ring = tolerance(radius - LOOP_RADIUS, bounds=(-LOOP_WIDTH, LOOP_WIDTH),
                            margin=LOOP_WIDTH)
        tangential = (xy[0] * vel[1] - xy[1] * vel[0]) / jnp.maximum(radius, 1e-6)
        return on_ring * at_least(tangential, LOOP_SPEED, LOOP_SPEED, 0.0)

    tasks = {name: reach(target) for name, target in TARGETS.items()}
    tasks["loop"] = loop
    return Domain(name="point_mass", mj_model=mj_model, model=model, n_substeps=1,
                  observe=lambda d: jnp.concatenate([d.qpos, d.qvel]), tasks=tasks)
