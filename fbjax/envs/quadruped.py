"""Quadruped on flat ground: DM Control's walk and run, with URLB/ExoRL's stand and jump.

The model is DM Control's quadruped as its suite builds it for walk and run (no height-field
terrain, walls, ball or rangefinders), written out here from its physical parameters: an
ellipsoid torso (0.3 x 0.27 x 0.2 m, density 1000) on a free joint, four legs of hip (yaw,
pitch), knee and ankle hinges with damping 30, a sphere toe each, a tendon equality coupling
pitch + knee + ankle of every leg, and 12 first-order filter actuators (yaw, lift, extend per
leg). Physics step 0.005 s, control step 0.02 s (4 physics steps), 1000 control steps.

rewards (upright = linear tolerance of the torso's zz in [1, inf) with margin 2, i.e. 0 upside
down and 1 upright; velocimeter = the torso frame's linear velocity in its own axes):
  stand = upright;
  walk / run = upright * ramp(velocimeter x, 1 at 0.5 / 5 m/s, margin equal, 0.5 at margin);
  jump = upright * ramp(torso subtree centre-of-mass height, 1 at 1 m, margin 1, 0.5 at margin).
An episode starts from a uniformly random orientation with every joint at 0 and zero velocity,
at the lowest height on a 1 cm grid where no geom touches the floor (as DM Control's
`_find_non_contacting_height` does).

Observation (78 numbers, DM Control's layout): hinge angles (16), hinge velocities (16),
actuator activations (12), velocimeter (3), torso upright (1), accelerometer and gyro (6),
arcsinh of the toe force and torque sensors (24); sensors of the current state (`mjx.forward`).

MJX solver: DM Control's model runs Newton with 100 iterations (line search 50) and collides
every pair of geoms. fbjax steps it with fewer solver iterations (`SOLVER_ITERATIONS`) and the
same contacts; docs/environments.md's "Dynamics next to DM Control" measures what that changes.
"""

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from mujoco import mjx

from fbjax.envs.base import Domain, body_id, refresh_full, sensor_slice
from fbjax.envs.rewards import tolerance

WALK_SPEED, RUN_SPEED, JUMP_HEIGHT = 0.5, 5.0, 1.0
FLOOR_SIZE = 10.0  # DM Control's walk floor: 20 s x 0.5 m/s
SOLVER_ITERATIONS, LINE_SEARCH_ITERATIONS = 4, 8
HEIGHT_GRID = 0.01

# (name, hip position, hip yaw about z in degrees), in DM Control's order.
LEGS = (("front_left", ".2 .2 0", 45), ("front_right", ".2 -.2 0", -45),
        ("back_right", "-.2 -.2 0", -135), ("back_left", "-.2 .2 0", 135))


def _leg(name: str, pos: str, yaw: float) -> str:
    return f"""
      <body name="hip_{name}" pos="{pos}" euler="0 0 {yaw}" childclass="hip">
        <joint name="yaw_{name}" class="yaw"/>
        <joint name="pitch_{name}" class="pitch"/>
        <geom name="thigh_{name}"/>
        <body name="knee_{name}" pos=".3 0 .11" childclass="knee">
          <joint name="knee_{name}"/>
          <geom name="shin_{name}"/>
          <body name="ankle_{name}" pos=".25 0 -.25" childclass="ankle">
            <joint name="ankle_{name}"/>
            <geom name="foot_{name}"/>
            <body name="toe_{name}" pos="0 0 -.3" childclass="toe">
              <geom name="toe_{name}"/>
              <site name="toe_{name}"/>
            </body>
          </body>
        </body>
      </body>"""


# Fixed tendons of every leg, {joint: coefficient}; all couplings first, then each leg's extend
# and lift, as DM Control orders them (actuators refer to tendons by index).
COUPLING = {"pitch": ".333", "knee": ".333", "ankle": ".333"}
LEG_TENDONS = {"extend": {"pitch": ".25", "knee": "-.5", "ankle": ".25"},
               "lift": {"pitch": ".5", "ankle": "-.5"}}


def _tendon(kind: str, leg: str, coefs: dict[str, str]) -> str:
    joints = "".join(f'<joint joint="{joint}_{leg}" coef="{c}"/>' for joint, c in coefs.items())
    return f'\n    <fixed name="{kind}_{leg}">{joints}</fixed>'


DEFAULTS = """
  <default>
    <geom solimp=".9 .99 .003" solref=".01 1"/>
    <default class="body">
      <geom type="capsule" size=".08" condim="1" density="500"/>
      <joint type="hinge" damping="30" armature=".01" limited="true" solimplimit="0 .99 .01"/>
      <default class="hip">
        <default class="yaw"><joint axis="0 0 1" range="-50 50"/></default>
        <default class="pitch"><joint axis="0 1 0" range="-20 60"/></default>
        <geom fromto="0 0 0 .3 0 .11"/>
      </default>
      <default class="knee">
        <joint axis="0 1 0" range="-60 50"/>
        <geom size=".065" fromto="0 0 0 .25 0 -.25"/>
      </default>
      <default class="ankle">
        <joint axis="0 1 0" range="-45 55"/>
        <geom size=".055" fromto="0 0 0 0 0 -.25"/>
      </default>
      <default class="toe">
        <geom type="sphere" size=".08" friction="1.5"/>
        <site type="sphere" size=".084" group="4"/>
      </default>
    </default>
    <default class="coupling"><equality solimp="0.95 0.99 0.01" solref=".005 .5"/></default>
    <general ctrllimited="true" gainprm="1000" biasprm="0 -1000" biastype="affine"
             dyntype="filter" dynprm=".1"/>
    <default class="yaw_act"><general ctrlrange="-1 1"/></default>
    <default class="lift_act"><general ctrlrange="-1 1.1"/></default>
    <default class="extend_act"><general ctrlrange="-.8 .8"/></default>
  </default>"""


def quadruped_xml(iterations: int = SOLVER_ITERATIONS,
                  ls_iterations: int = LINE_SEARCH_ITERATIONS) -> str:
    """The flat-ground quadruped's MJCF (DM Control's solver: iterations=100, ls=50)."""
    names = [name for name, _, _ in LEGS]
    legs = "".join(_leg(*leg) for leg in LEGS)
    tendons = "".join(_tendon("coupling", n, COUPLING) for n in names) + "".join(
        _tendon(kind, n, coefs) for n in names for kind, coefs in LEG_TENDONS.items())
    equality = "".join(f'<tendon name="coupling_{n}" tendon1="coupling_{n}" class="coupling"/>'
                       for n in names)
    actuators = "".join(
        f'<general name="yaw_{n}" class="yaw_act" joint="yaw_{n}"/>'
        f'<general name="lift_{n}" class="lift_act" tendon="lift_{n}"/>'
        f'<general name="extend_{n}" class="extend_act" tendon="extend_{n}"/>' for n in names)
    toe_sensors = "".join(f'<force name="force_toe_{n}" site="toe_{n}"/>' for n in names)
    toe_sensors += "".join(f'<torque name="torque_toe_{n}" site="toe_{n}"/>' for n in names)
    return f"""
<mujoco model="quadruped">
  <option timestep=".005" iterations="{iterations}" ls_iterations="{ls_iterations}"/>
{DEFAULTS}
  <worldbody>
    <geom name="floor" type="plane" size="{FLOOR_SIZE} {FLOOR_SIZE} .5"/>
    <body name="torso" childclass="body" pos="0 0 .57">
      <freejoint name="root"/>
      <geom name="eye_r" type="cylinder" size=".05" fromto=".1 -.07 .12 .31 -.07 .08" mass="0"/>
      <geom name="eye_l" type="cylinder" size=".05" fromto=".1 .07 .12 .31 .07 .08" mass="0"/>
      <geom name="torso" type="ellipsoid" size=".3 .27 .2" density="1000"/>
      <site name="torso" size=".05"/>{legs}
    </body>
  </worldbody>
  <tendon>{tendons}
  </tendon>
  <equality>{equality}</equality>
  <actuator>{actuators}</actuator>
  <sensor>
    <accelerometer name="imu_accel" site="torso"/>
    <gyro name="imu_gyro" site="torso"/>
    <velocimeter name="velocimeter" site="torso"/>
    {toe_sensors}
    <subtreecom name="center_of_mass" body="torso"/>
  </sensor>
</mujoco>
"""


_LOWEST_POINT_TYPES = tuple(int(t) for t in (
    mujoco.mjtGeom.mjGEOM_SPHERE, mujoco.mjtGeom.mjGEOM_CAPSULE, mujoco.mjtGeom.mjGEOM_CYLINDER,
    mujoco.mjtGeom.mjGEOM_ELLIPSOID, mujoco.mjtGeom.mjGEOM_BOX))


def lowest_points(model: mjx.Model, data: mjx.Data, geoms: np.ndarray) -> jnp.ndarray:
    """World z of the lowest point of each geom in `geoms` (spheres, capsules, cylinders,
    ellipsoids and boxes), from the geom frames of `data` (after kinematics)."""
    z = data.geom_xpos[geoms, 2]
    axes_z = data.geom_xmat[geoms, 2, :]  # world z of each local axis
    size = model.geom_size[geoms]
    kind = np.asarray(model.geom_type)[geoms]
    drop = jnp.select(
        [kind == t for t in _LOWEST_POINT_TYPES],
        [size[:, 0],
         jnp.abs(axes_z[:, 2]) * size[:, 1] + size[:, 0],
         jnp.abs(axes_z[:, 2]) * size[:, 1]
         + size[:, 0] * jnp.sqrt(jnp.clip(1 - axes_z[:, 2] ** 2, 0.0)),
         jnp.sqrt(jnp.sum((axes_z * size) ** 2, axis=1)),
         jnp.sum(jnp.abs(axes_z) * size, axis=1)])
    return z - drop


def _observer(mj_model: mujoco.MjModel):
    """DM Control's quadruped observation as a function of refreshed MJX data."""
    torso = body_id(mj_model, "torso")
    hinges = np.flatnonzero(mj_model.jnt_type == mujoco.mjtJoint.mjJNT_HINGE)
    hinge_qpos = np.asarray(mj_model.jnt_qposadr)[hinges]
    hinge_qvel = np.asarray(mj_model.jnt_dofadr)[hinges]
    # DM Control reads sensors of a kind in model order: accelerometer then gyro; the four toe
    # forces then the four toe torques.
    index = np.arange(mj_model.nsensordata)
    imu = np.r_[index[sensor_slice(mj_model, "imu_accel")],
                index[sensor_slice(mj_model, "imu_gyro")]]
    toes = np.concatenate([index[sensor_slice(mj_model, f"{kind}_toe_{name}")]
                           for kind in ("force", "torque") for name, _, _ in LEGS])
    velocimeter = sensor_slice(mj_model, "velocimeter")

    def observe(data):
        return jnp.concatenate([
            data.qpos[hinge_qpos], data.qvel[hinge_qvel], data.act,
            data.sensordata[velocimeter], data.xmat[torso, 2, 2:3], data.sensordata[imu],
            jnp.arcsinh(data.sensordata[toes])])

    return observe


def make() -> Domain:
    mj_model = mujoco.MjModel.from_xml_string(quadruped_xml())
    for i in range(mj_model.ngeom):
        if mj_model.geom_bodyid[i] and int(mj_model.geom_type[i]) not in _LOWEST_POINT_TYPES:
            raise NotImplementedError(f"quadruped geom {i}: no lowest-point formula")
    model = mjx.put_model(mj_model, impl="jax")
    torso = body_id(mj_model, "torso")
    body_geoms = np.flatnonzero(mj_model.geom_bodyid > 0)

    def torso_velocity(data):
        # The free joint's qvel[:3] is the torso origin's world velocity; the velocimeter site
        # sits at that origin with the torso's axes.
        return data.xmat[torso].T @ data.qvel[:3]

    def upright(data):
        return tolerance(data.xmat[torso, 2, 2], bounds=(1.0, float("inf")), sigmoid="linear",
                         margin=2.0, value_at_margin=0.0)

    def move(speed):
        def reward(data, action):
            return upright(data) * tolerance(torso_velocity(data)[0], bounds=(speed, float("inf")),
                                             margin=speed, value_at_margin=0.5,
                                             sigmoid="linear")
        return reward

    def jump(data, action):
        return upright(data) * tolerance(data.subtree_com[torso, 2],
                                         bounds=(JUMP_HEIGHT, float("inf")), margin=JUMP_HEIGHT,
                                         value_at_margin=0.5, sigmoid="linear")

    def initial_qpos(key):
        quat = jax.random.normal(key, (4,))
        quat = quat / jnp.linalg.norm(quat)
        qpos = jnp.asarray(mj_model.qpos0, jnp.float32).at[:3].set(0.0).at[3:7].set(quat)
        data = mjx.kinematics(model, mjx.make_data(model).replace(qpos=qpos))
        lowest = jnp.min(lowest_points(model, data, body_geoms))
        # The first height on the grid at which the lowest point clears the floor.
        height = HEIGHT_GRID * jnp.maximum(jnp.floor(-lowest / HEIGHT_GRID) + 1, 0.0)
        return qpos.at[2].set(height)

    tasks = {"stand": lambda data, action: upright(data), "walk": move(WALK_SPEED),
             "run": move(RUN_SPEED), "jump": jump}
    return Domain(name="quadruped", mj_model=mj_model, model=model, n_substeps=4,
                  observe=_observer(mj_model), tasks=tasks, refresh=refresh_full,
                  initial_qpos=initial_qpos)
