"""Point-mass maze: ExoRL's point-mass domain, on which the FB papers' point-mass numbers are made.

DM Control's point mass (0.3 kg sphere of radius 1 cm on two damped slide joints limited to
+-0.29 m, motors of gear 0.1, dt 0.02) in a 0.6 x 0.6 m arena, with a "+"-shaped inner wall 4 cm
thick and 4 cm high whose arms reach 0.18 m from the centre: four rooms joined by 0.12 m gaps next
to the outer walls. Every dimension is ExoRL's (its point_mass_maze.xml: wall boxes of half-size
0.18 x 0.02 x 0.02; tests/test_envs.py checks them as numbers).
Contacts are on, between the mass and the inner walls only (the mass glides on the floor without
friction as in DM Control, where contacts are off). Every episode starts at rest in the top-left
room, x ~ U(-0.29, -0.15), y ~ U(0.15, 0.29); 1000 control steps. The four reach tasks are the
open arena's (fbjax.envs.point_mass): targets at (+-0.15, +-0.15), DM Control's point-mass reward
tolerance(distance, (0, 0.015), margin 0.015) x (small_control + 4) / 5; reach_top_left is in the
start room, reach_bottom_right diagonally opposite (the facts are in REFERENCES.md; the MJCF
below is written here).
"""

import jax
import jax.numpy as jnp
import mujoco
from mujoco import mjx

from fbjax.envs.base import Domain, geom_id
from fbjax.envs.point_mass import TARGETS, reach_reward

ARM, WALL_HALF_THICKNESS, MASS_RADIUS = 0.18, 0.02, 0.01
START_LOW, START_HIGH = (-0.29, 0.15), (-0.15, 0.29)
GAP_CENTRE = 0.24  # the gaps between the arms' tips (0.18) and the outer walls (0.3)
# B's goal space in Meta's original FB code for this maze: the mass's (x, y) position, the first
# two coordinates of the observation (x, y, vx, vy). The reach rewards are functions of it.
GOAL_XY = (0, 1)

# contype/conaffinity: the mass (1/0) collides with the inner walls (0/1) and nothing else.
MAZE_XML = f"""
<mujoco model="point mass maze">
  <option timestep="0.02" iterations="4" ls_iterations="4">
    <flag eulerdamp="disable"/>
  </option>
  <default>
    <joint type="hinge" axis="0 0 1" limited="true" range="-.29 .29" damping="1"/>
    <motor gear=".1" ctrlrange="-1 1" ctrllimited="true"/>
    <geom contype="0" conaffinity="0"/>
  </default>
  <worldbody>
    <light name="light" pos="0 0 1"/>
    <geom name="ground" type="plane" pos="0 0 0" size=".3 .3 .1" rgba=".2 .3 .4 1"/>
    <geom name="wall_x" type="plane" pos="-.3 0 .02" zaxis="1 0 0" size=".02 .3 .02"/>
    <geom name="wall_y" type="plane" pos="0 -.3 .02" zaxis="0 1 0" size=".3 .02 .02"/>
    <geom name="wall_neg_x" type="plane" pos=".3 0 .02" zaxis="-1 0 0" size=".02 .3 .02"/>
    <geom name="wall_neg_y" type="plane" pos="0 .3 .02" zaxis="0 -1 0" size=".3 .02 .02"/>
    <geom name="maze_x" type="box" pos="0 0 .02" size="{ARM} {WALL_HALF_THICKNESS} .02"
          conaffinity="1" rgba=".7 .5 .3 1"/>
    <geom name="maze_y" type="box" pos="0 0 .02" size="{WALL_HALF_THICKNESS} {ARM} .02"
          conaffinity="1" rgba=".7 .5 .3 1"/>
    <body name="pointmass" pos="0 0 .01">
      <joint name="root_x" type="slide" pos="0 0 0" axis="1 0 0"/>
      <joint name="root_y" type="slide" pos="0 0 0" axis="0 1 0"/>
      <geom name="pointmass" type="sphere" size=".01" mass=".3" contype="1"
            rgba=".7 .5 .3 1"/>
    </body>
  </worldbody>
  <tendon>
    <fixed name="t1"><joint joint="root_x" coef="1"/><joint joint="root_y" coef="0"/></fixed>
    <fixed name="t2"><joint joint="root_x" coef="0"/><joint joint="root_y" coef="1"/></fixed>
  </tendon>
  <actuator>
    <motor name="t1" tendon="t1"/>
    <motor name="t2" tendon="t2"/>
  </actuator>
</mujoco>
"""


def start_qpos(key: jax.Array) -> jax.Array:
    """A start position in the top-left room."""
    return jax.random.uniform(key, (2,), minval=jnp.array(START_LOW),
                              maxval=jnp.array(START_HIGH))


def anywhere_qpos(key: jax.Array) -> jax.Array:
    """A position in a room drawn uniformly, uniform over that room's box clear of the inner
    walls by the mass's radius (the gaps between rooms aside): for collection that starts in
    every room."""
    room_key, key = jax.random.split(key)
    signs = jnp.array([[-1.0, 1.0], [1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    clear = WALL_HALF_THICKNESS + MASS_RADIUS
    offset = jax.random.uniform(key, (2,), minval=clear, maxval=0.29)
    return signs[jax.random.randint(room_key, (), 0, 4)] * offset


def make() -> Domain:
    mj_model = mujoco.MjModel.from_xml_string(MAZE_XML)
    model = mjx.put_model(mj_model, impl="jax")
    mass = geom_id(mj_model, "pointmass")
    return Domain(name="point_mass_maze", mj_model=mj_model, model=model, n_substeps=1,
                  observe=lambda d: jnp.concatenate([d.qpos, d.qvel]),
                  tasks={name: reach_reward(mass, t) for name, t in TARGETS.items()},
                  initial_qpos=start_qpos, anywhere_qpos=anywhere_qpos,
                  goal_spaces={"xy": GOAL_XY})


def navigator(goal, kp: float = 100.0, kd: float = 20.0):
    """A scripted reference for reaching `goal` (x, y) in the maze: obs (..., 4) -> action.

    PD control (gains kp on position, kd on velocity, actions clipped to [-1, 1]) towards a
    waypoint: the goal itself in the goal's room; otherwise a point 5 cm past the gap out of the
    current room, towards the goal's room (crossing left/right first when the goal is diagonally
    opposite). Not learned and not tuned on any reported task: it is the yardstick for what a
    reach task allows, where an offline TD3 on sparse rewards is no oracle."""
    goal = jnp.asarray(goal, jnp.float32)

    def act(obs):
        pos, vel = obs[..., :2], obs[..., 2:4]
        here, there = pos > 0, goal > 0  # (right, top) of the current room and the goal's
        side = jnp.where(here, 1.0, -1.0)
        across_x = jnp.stack([-side[..., 0] * 0.05, side[..., 1] * GAP_CENTRE], -1)
        across_y = jnp.stack([side[..., 0] * GAP_CENTRE, -side[..., 1] * 0.05], -1)
        same_room = jnp.all(here == there, axis=-1, keepdims=True)
        other_x = (here[..., :1] != there[:1])
        waypoint = jnp.where(same_room, goal, jnp.where(other_x, across_x, across_y))
        return jnp.clip(kp * (waypoint - pos) - kd * vel, -1.0, 1.0)

    return act
