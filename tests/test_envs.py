"""The task libraries against DM Control's own rewards on the same physics states.

For each domain, 1000 random states (joint angles over their ranges, wide velocities, random
controls) are set both in DM Control's physics (MuJoCo C, float64) and in fbjax's MJX domain
(float32); every task's reward must agree to 1e-4. DM Control's suite tasks are called directly
(walker stand/walk/run, cheetah run, hopper stand/hop, quadruped walk/run, humanoid
stand/walk/run). The ExoRL/URLB tasks (walker flip, cheetah walk/backward, point-mass reach,
quadruped stand/jump) and fbjax's own (walker spin, point-mass loop) are written here from their
public definitions on top of DM Control's physics and `rewards.tolerance`. The legged domains
with a free root (quadruped, humanoid) are also checked on states DM Control's own simulation
visits under random actions, not only on random ones.
"""

import functools

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

import fbjax.envs as envs

dm_suite = pytest.importorskip("dm_control.suite")
from dm_control.suite import cheetah, hopper, humanoid, point_mass, quadruped, walker  # noqa: E402
from dm_control.utils.rewards import tolerance  # noqa: E402

NUM_STATES = 1000
ATOL = 1e-4


def _angmom_y(physics):
    mujoco.mj_subtreeVel(physics.model.ptr, physics.data.ptr)
    return physics.named.data.subtree_angmom["torso"][1]


def _ramp(x, speed, margin, value_at_margin):
    return tolerance(x, bounds=(speed, float("inf")), margin=margin, sigmoid="linear",
                     value_at_margin=value_at_margin)


def _small_control(physics):
    cost = tolerance(physics.control(), margin=1, value_at_margin=0, sigmoid="quadratic").mean()
    return (cost + 4) / 5


def _walker_reference():
    physics = walker.Physics.from_xml_string(*walker.get_model_and_assets())
    stand = walker.PlanarWalker(move_speed=0, random=0)
    walk = walker.PlanarWalker(move_speed=walker._WALK_SPEED, random=0)
    run = walker.PlanarWalker(move_speed=walker._RUN_SPEED, random=0)

    def flip(sign):
        return lambda p: stand.get_reward(p) * (5 * _ramp(sign * _angmom_y(p), 5, 5, 0) + 1) / 6

    return physics, {"stand": stand.get_reward, "walk": walk.get_reward, "run": run.get_reward,
                     "flip": flip(1), "spin": flip(-1)}


def _cheetah_reference():
    physics = cheetah.Physics.from_xml_string(*cheetah.get_model_and_assets())
    run = cheetah.Cheetah(random=0)

    def move(speed, sign):
        return lambda p: _ramp(sign * p.speed(), speed, speed, 0)

    return physics, {"run": run.get_reward, "walk": move(2, 1), "run_backward": move(10, -1),
                     "walk_backward": move(2, -1)}


def _hopper_reference():
    physics = hopper.Physics.from_xml_string(*hopper.get_model_and_assets())
    return physics, {"stand": hopper.Hopper(hopping=False, random=0).get_reward,
                     "hop": hopper.Hopper(hopping=True, random=0).get_reward}


def _point_mass_reference():
    physics = point_mass.Physics.from_xml_string(*point_mass.get_model_and_assets())

    def reach(x, y):
        def reward(p):
            distance = np.linalg.norm(np.array([x, y, 0.01]) - p.named.data.geom_xpos["pointmass"])
            return tolerance(distance, bounds=(0, 0.015), margin=0.015) * _small_control(p)
        return reward

    def loop(p):
        xy, vel = p.named.data.geom_xpos["pointmass"][:2], p.data.qvel[:2]
        radius = np.linalg.norm(xy)
        on_ring = tolerance(radius - 0.15, bounds=(-0.03, 0.03), margin=0.03)
        tangential = (xy[0] * vel[1] - xy[1] * vel[0]) / max(radius, 1e-6)
        return on_ring * _ramp(tangential, 0.1, 0.1, 0)

    return physics, {"reach_top_left": reach(-0.15, 0.15), "reach_top_right": reach(0.15, 0.15),
                     "reach_bottom_left": reach(-0.15, -0.15),
                     "reach_bottom_right": reach(0.15, -0.15), "loop": loop}


def _point_mass_maze_reference():
    """DM Control's physics of the maze's own MJCF, with the DM Control point-mass reward."""
    from dm_control import mujoco as dm_mujoco

    from fbjax.envs.point_mass_maze import MAZE_XML

    physics = dm_mujoco.Physics.from_xml_string(MAZE_XML)
    _, references = _point_mass_reference()
    return physics, {k: v for k, v in references.items() if k.startswith("reach")}


def _quadruped_reference():
    from dm_control.suite import common

    physics = quadruped.Physics.from_xml_string(
        quadruped.make_model(floor_size=quadruped._DEFAULT_TIME_LIMIT * quadruped._WALK_SPEED),
        common.ASSETS)
    walk = quadruped.Move(desired_speed=quadruped._WALK_SPEED, random=0)
    run = quadruped.Move(desired_speed=quadruped._RUN_SPEED, random=0)

    def jump(p):  # URLB's quadruped jump: upright x ramp of the centre-of-mass height to 1 m
        height = p.named.data.sensordata["center_of_mass"][2]
        return quadruped._upright_reward(p) * _ramp(height, 1.0, 1.0, 0.5)

    return physics, {"stand": quadruped._upright_reward, "walk": walk.get_reward,
                     "run": run.get_reward, "jump": jump}


def _humanoid_reference():
    physics = humanoid.Physics.from_xml_string(*humanoid.get_model_and_assets())
    return physics, {name: humanoid.Humanoid(move_speed=speed, pure_state=False,
                                             random=0).get_reward
                     for name, speed in (("stand", 0), ("walk", humanoid._WALK_SPEED),
                                         ("run", humanoid._RUN_SPEED))}


REFERENCES = {"walker": _walker_reference, "cheetah": _cheetah_reference,
              "hopper": _hopper_reference, "point_mass": _point_mass_reference,
              "point_mass_maze": _point_mass_maze_reference,
              "quadruped": _quadruped_reference, "humanoid": _humanoid_reference}
# DM Control environments whose random-action rollouts give the on-policy-like states.
ROLLOUT_ENVS = {"quadruped": lambda: quadruped.walk(random=0),
                "humanoid": lambda: humanoid.walk(random=0)}


def _rollout_states(name, count, rng):
    """States DM Control's own simulation visits under uniform random actions, from its own
    episode starts (episodes of 100 control steps, so falls and recoveries are both seen)."""
    env = ROLLOUT_ENVS[name]()
    spec = env.action_spec()
    qpos, qvel, ctrl = [], [], []
    while len(qpos) < count:
        if len(qpos) % 100 == 0:
            env.reset()
        action = rng.uniform(spec.minimum, spec.maximum)
        env.step(action)
        qpos.append(env.physics.data.qpos.copy())
        qvel.append(env.physics.data.qvel.copy())
        ctrl.append(action)
    return np.array(qpos), np.array(qvel), np.array(ctrl)


def _free_root_states(domain, rng):
    """Half random states (root height 0-2 m, any orientation, root speeds around the walk and
    run thresholds, joints over their ranges), half states of DM Control's own rollouts."""
    model, half = domain.mj_model, NUM_STATES // 2
    keys = jax.random.split(jax.random.PRNGKey(int(rng.integers(1 << 30))), half)
    qpos = np.asarray(jax.vmap(lambda k: envs.base.randomize_joints(model, k))(keys), np.float64)
    quat = rng.normal(size=(half, 4))
    qpos[:, 3:7] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
    qpos[:, :3] = rng.uniform([-5, -5, 0], [5, 5, 2], (half, 3))
    qvel = rng.normal(0.0, 2.0, (half, model.nv))
    qvel[:, :2] = rng.normal(0.0, 6.0, (half, 2))
    ctrl = rng.uniform(-1, 1, (half, model.nu))
    rolled = _rollout_states(domain.name, NUM_STATES - half, rng)
    return tuple(np.concatenate([a, b]) for a, b in zip((qpos, qvel, ctrl), rolled,
                                                         strict=True))


def _random_states(domain, rng):
    """States that exercise every reward: near the point-mass targets and ring, torso heights
    around the stand threshold, speeds and spins around the move/flip thresholds."""
    if domain.name in ROLLOUT_ENVS:
        return _free_root_states(domain, rng)
    model = domain.mj_model
    keys = jax.random.split(jax.random.PRNGKey(int(rng.integers(1 << 30))), NUM_STATES)
    qpos = np.asarray(jax.vmap(lambda k: envs.base.randomize_joints(model, k))(keys), np.float64)
    qvel = rng.normal(0.0, 3.0, (NUM_STATES, model.nv))
    if domain.name.startswith("point_mass"):
        corners = rng.choice([-0.15, 0.15], (NUM_STATES, 2))
        angle = rng.uniform(0, 2 * np.pi, NUM_STATES)
        ring = 0.15 * np.stack([np.cos(angle), np.sin(angle)], 1)
        near = np.where(rng.random((NUM_STATES, 1)) < 0.5, corners, ring)
        qpos = near + rng.normal(0, 0.02, (NUM_STATES, 2))
        qvel = rng.normal(0.0, 0.15, (NUM_STATES, 2))
    else:
        qpos[:, 0] = rng.uniform(-1.0, 1.0, NUM_STATES)  # rootz: around standing height
        qvel[:, 0] = rng.normal(0.0, 8.0, NUM_STATES)
        qvel[:, 2] = rng.normal(0.0, 6.0, NUM_STATES)  # rooty: spins both ways
    ctrl = rng.uniform(-1, 1, (NUM_STATES, model.nu))
    return qpos, qvel, ctrl


@functools.cache
def _batched_rewards(name):
    domain = envs.make(name)
    return jax.jit(jax.vmap(domain.rewards))


def agreement(name):
    """(fbjax rewards, DM Control rewards), each (NUM_STATES, num_tasks), on the same states."""
    domain = envs.make(name)
    physics, references = REFERENCES[name]()
    assert tuple(references) == domain.task_names
    qpos, qvel, ctrl = _random_states(domain, np.random.default_rng(0))
    ours = np.asarray(_batched_rewards(name)(
        jnp.asarray(np.concatenate([qpos, qvel], 1), jnp.float32), jnp.asarray(ctrl, jnp.float32)))
    expected = np.zeros_like(ours, dtype=np.float64)
    for i in range(NUM_STATES):
        with physics.reset_context():
            physics.data.qpos[:] = qpos[i].astype(np.float32)
            physics.data.qvel[:] = qvel[i].astype(np.float32)
            physics.data.ctrl[:] = ctrl[i].astype(np.float32)
        for j, fn in enumerate(references.values()):
            expected[i, j] = fn(physics)
    return ours, expected


DOMAINS = ["point_mass", "point_mass_maze", "walker", "cheetah", "hopper", "quadruped",
           "humanoid"]


@pytest.mark.parametrize("name", DOMAINS)
def test_rewards_agree_with_dm_control(name):
    ours, expected = agreement(name)
    for j, task in enumerate(envs.tasks(name)):
        # The states must exercise the reward, or agreement would mean nothing.
        assert expected[:, j].std() > 0.02, (task, expected[:, j].std())
        error = np.abs(ours[:, j] - expected[:, j]).max()
        assert error <= ATOL, f"{name}/{task}: max |fbjax - dm_control| = {error:.2e}"


def test_registry_and_errors():
    assert envs.domains() == ("point_mass", "point_mass_maze", "walker", "cheetah", "hopper",
                              "quadruped", "humanoid")
    assert envs.tasks("cheetah") == ("run", "walk", "run_backward", "walk_backward")
    with pytest.raises(ValueError, match="unknown domain 'humanoid_CMU'"):
        envs.make("humanoid_CMU")
    with pytest.raises(KeyError, match="no task 'jump'"):
        envs.make("walker").task_fn("jump")


def test_episode_matches_a_step_by_step_loop():
    """`step` under `lax.scan` equals calling it from Python, and observations have the
    documented sizes."""
    domain = envs.make("point_mass")
    assert (domain.obs_dim, domain.action_dim, domain.physics_dim) == (4, 2, 4)
    actions = jax.random.uniform(jax.random.PRNGKey(1), (20, 2), minval=-1, maxval=1)
    start = domain.reset(jax.random.PRNGKey(0))
    final, _ = jax.lax.scan(lambda s, a: (domain.step(s, a), None), start, actions)
    step = jax.jit(domain.step)
    state = start
    for a in actions:
        state = step(state, a)
    np.testing.assert_allclose(final.obs, state.obs, atol=1e-6)
    assert int(final.t) == 20
    # The mass moves: 20 steps of 0.02 s under random force leave it elsewhere.
    assert np.abs(np.asarray(final.obs[:2] - start.obs[:2])).max() > 1e-3


def test_maze_walls_stop_the_mass_and_episodes_start_in_the_top_left_room():
    domain = envs.make("point_mass_maze")
    starts = np.asarray(jax.vmap(lambda k: domain.reset(k).obs)(
        jax.random.split(jax.random.PRNGKey(0), 256)))
    assert np.all((starts[:, 0] >= -0.29) & (starts[:, 0] <= -0.15))
    assert np.all((starts[:, 1] >= 0.15) & (starts[:, 1] <= 0.29)) and not starts[:, 2:].any()
    step = jax.jit(domain.step)

    def push(qpos, action, steps=100):
        state = domain.reset(jax.random.PRNGKey(0))
        state = state.replace(data=state.data.replace(qpos=jnp.asarray(qpos)))
        for _ in range(steps):
            state = step(state, jnp.asarray(action))
        return np.asarray(state.obs)

    # Into the vertical arm from the top-left room: stopped where the sphere (radius 0.01)
    # touches the wall (half-thickness 0.02), a contact's penetration (< 0.5 mm) aside.
    assert abs(push([-0.15, 0.15], [1.0, 0.0])[0] + 0.03) < 5e-4
    # Into the horizontal arm from the top-right room.
    assert abs(push([0.1, 0.15], [0.0, -1.0])[1] - 0.03) < 5e-4
    # Past the arm's end (|y| > 0.18 + 0.01) the gap lets it through to the next room.
    assert push([-0.15, 0.25], [1.0, 0.0], steps=150)[0] > 0.05


# ExoRL's point-mass maze (custom_dmc_tasks/point_mass_maze.xml in ExoRL), as numbers read off
# its MJCF: world-frame half-extents of the two inner wall boxes (ExoRL writes each as a box of
# size .18 x .02 x .02 turned by a zaxis; the world extents are what the mass meets), their centre,
# the outer walls' planes, the mass, its joints and motors, and the time step.
EXORL_MAZE = {
    "inner_wall_half_extents": sorted([(0.18, 0.02, 0.02), (0.02, 0.18, 0.02)]),
    "inner_wall_centre": (0.0, 0.0, 0.02),
    "outer_wall_planes": sorted([(-0.3, 0.0), (0.3, 0.0), (0.0, -0.3), (0.0, 0.3)]),
    "mass_radius": 0.01, "mass": 0.3, "mass_height": 0.01,
    "joint_range": (-0.29, 0.29), "joint_damping": 1.0, "gear": 0.1, "ctrlrange": (-1.0, 1.0),
    "timestep": 0.02,
}


def test_maze_geometry_is_exorls():
    """Every dimension of fbjax's maze against ExoRL's: the inner walls 4 cm thick (box half-size
    0.02) and 4 cm high with arms of half-length 0.18, so the gaps between the rooms are 0.12 m."""
    m = envs.make("point_mass_maze").mj_model
    data = mujoco.MjData(m)
    mujoco.mj_forward(m, data)

    def world_half_extents(name):
        g = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, name)
        rot = data.geom_xmat[g].reshape(3, 3)
        return tuple(np.round(np.abs(rot) @ m.geom_size[g], 6)), tuple(data.geom_xpos[g])

    walls = [world_half_extents(n) for n in ("maze_x", "maze_y")]
    assert sorted(w[0] for w in walls) == EXORL_MAZE["inner_wall_half_extents"]
    for _, centre in walls:
        np.testing.assert_allclose(centre, EXORL_MAZE["inner_wall_centre"], atol=1e-9)
    planes = sorted(tuple(np.round(data.geom_xpos[mujoco.mj_name2id(
        m, mujoco.mjtObj.mjOBJ_GEOM, n)][:2], 6)) for n in ("wall_x", "wall_y", "wall_neg_x",
                                                            "wall_neg_y"))
    assert planes == EXORL_MAZE["outer_wall_planes"]
    mass = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, "pointmass")
    body = m.geom_bodyid[mass]
    assert m.geom_size[mass][0] == pytest.approx(EXORL_MAZE["mass_radius"])
    assert m.body_mass[body] == pytest.approx(EXORL_MAZE["mass"])
    assert m.body_pos[body][2] == pytest.approx(EXORL_MAZE["mass_height"])
    np.testing.assert_allclose(m.jnt_range, [EXORL_MAZE["joint_range"]] * 2)
    np.testing.assert_allclose(m.dof_damping, EXORL_MAZE["joint_damping"])
    np.testing.assert_allclose(m.actuator_gear[:, 0], EXORL_MAZE["gear"])
    np.testing.assert_allclose(m.actuator_ctrlrange, [EXORL_MAZE["ctrlrange"]] * 2)
    assert m.opt.timestep == pytest.approx(EXORL_MAZE["timestep"])


def test_maze_anywhere_starts_cover_every_room_clear_of_the_walls():
    """CollectConfig.start="anywhere" on the maze: starts in all four rooms, none overlapping an
    inner wall (|x|, |y| >= half-thickness 0.02 + radius 0.01) or beyond the joint range."""
    domain = envs.make("point_mass_maze")
    xy = np.asarray(jax.vmap(domain.anywhere_qpos)(jax.random.split(jax.random.PRNGKey(0), 4000)))
    assert np.all(np.abs(xy) >= 0.03) and np.all(np.abs(xy) <= 0.29)
    rooms = np.bincount((xy[:, 0] > 0) + 2 * (xy[:, 1] < 0), minlength=4) / len(xy)
    np.testing.assert_allclose(rooms, 0.25, atol=0.03)  # 4000 draws: sd of a share 0.007
    assert envs.make("point_mass").anywhere_qpos is None


def test_quadruped_model_is_dm_controls_flat_ground_model():
    """fbjax writes the quadruped's MJCF itself: every physical parameter equals the model DM
    Control's suite builds for walk and run; only the solver's iteration counts differ."""
    from dm_control.suite import common

    ours = envs.make("quadruped").mj_model
    theirs = mujoco.MjModel.from_xml_string(quadruped.make_model(floor_size=10), common.ASSETS)
    for field in ("body_mass", "body_inertia", "body_pos", "body_quat", "body_ipos",
                  "body_iquat", "jnt_type", "jnt_range", "jnt_axis", "dof_damping",
                  "dof_armature", "geom_type", "geom_size", "geom_pos", "geom_quat",
                  "geom_friction", "geom_solref", "geom_solimp", "geom_condim", "geom_contype",
                  "geom_conaffinity", "actuator_gainprm", "actuator_biasprm", "actuator_dynprm",
                  "actuator_ctrlrange", "actuator_trnid", "wrap_prm", "eq_solref", "eq_solimp",
                  "sensor_type", "qpos0"):
        np.testing.assert_allclose(getattr(ours, field), getattr(theirs, field), atol=1e-6,
                                   err_msg=field)

    def sensed(model):  # sensors by the name of what they read (DM Control has more sites)
        return [(int(model.sensor_type[i]), mujoco.mj_id2name(
                    model, int(model.sensor_objtype[i]), int(model.sensor_objid[i])))
                for i in range(model.nsensor)]

    assert sensed(ours) == sensed(theirs)
    assert ours.opt.timestep == theirs.opt.timestep
    assert (theirs.opt.iterations, ours.opt.iterations) == (100, 4)


def _contacts(mj_model, qpos) -> int:
    """MuJoCo C's contact count for a configuration (an independent check of MJX's starts)."""
    return len(_contact_geoms(mj_model, qpos))


def _contact_geoms(mj_model, qpos) -> list[tuple[str, str]]:
    """The geom names of each contact MuJoCo C finds for a configuration."""
    data = mujoco.MjData(mj_model)
    data.qpos[:] = qpos
    mujoco.mj_forward(mj_model, data)
    name = functools.partial(mujoco.mj_id2name, mj_model, mujoco.mjtObj.mjOBJ_GEOM)
    pairs = zip(data.contact.geom1[:data.ncon], data.contact.geom2[:data.ncon], strict=True)
    return [(name(int(a)), name(int(b))) for a, b in pairs]


def test_legged_starts_are_dm_controls():
    """Quadruped: a random orientation at the lowest 1 cm step where nothing touches the floor
    (1 cm lower something does), joints at 0, at rest; humanoid: no contact at all, DM Control's
    U(0, 1)^4 orientation. Contacts are counted by MuJoCo C. The humanoid steps to a finite
    state (the quadruped's steps run in tests/test_legged.py)."""
    keys = jax.random.split(jax.random.PRNGKey(0), 16)
    quad = envs.make("quadruped")
    assert (quad.obs_dim, quad.action_dim) == (78, 12)
    starts = jax.jit(jax.vmap(quad.reset))(keys)
    for qpos in np.asarray(starts.data.qpos, np.float64):
        assert abs(qpos[2] / 0.01 - round(qpos[2] / 0.01)) < 1e-3  # on the 1 cm grid
        assert _contacts(quad.mj_model, qpos) == 0
        lower = qpos.copy()
        lower[2] -= 0.01  # the grid step below touches the floor, and only the floor
        touching = _contact_geoms(quad.mj_model, lower)
        assert touching and all("floor" in pair for pair in touching), touching
    assert np.abs(np.linalg.norm(starts.data.qpos[:, 3:7], axis=1) - 1).max() < 1e-5
    assert not np.asarray(starts.data.qpos[:, 7:]).any() and not np.asarray(starts.data.qvel).any()
    people = envs.make("humanoid")
    assert (people.obs_dim, people.action_dim) == (67, 21)
    starts = jax.jit(jax.vmap(people.reset))(keys)
    for qpos in np.asarray(starts.data.qpos, np.float64):
        assert _contacts(people.mj_model, qpos) == 0
    assert np.all(np.asarray(starts.data.qpos[:, 3:7]) >= 0)
    _steps_to_a_finite_state(people, starts)


def _steps_to_a_finite_state(domain, starts):
    start = jax.tree.map(lambda x: x[0], starts)
    state = jax.jit(domain.step)(start, jnp.full(domain.action_dim, 0.5))
    assert np.isfinite(np.asarray(state.obs)).all() and int(state.t) == 1


def test_dynamics_drift_separates_the_model_from_mjx():
    """On point mass (no contacts) MJX follows MuJoCo C on the same model to float32 precision,
    and DM Control against itself with velocities moved by 1e-6 stays within about 1e-6."""
    from experiments.dynamics_drift import measure

    row = measure("point_mass", episodes=2, steps=10)
    sims = row["simulations"]
    assert sims["chaos"]["rms_qpos_at_10"] < 1e-5
    # qpos within +-0.3 m in float32: a few ulps of 0.3 (3e-8 each) per step, far below 1e-5
    assert row["mjx_vs_model_c"]["rms_qpos_at_10"] < 1e-5
    assert row["fbjax_solver"][0] < row["dm_control_solver"][0] == 100


def _observation_model(name):
    """The MJX model to observe with. The quadruped's accelerometer and toe force sensors depend
    on the constraint solve, so its model gets DM Control's converged solver (100 iterations)
    here, and what differs from DM Control is float32 against float64."""
    from mujoco import mjx

    if name == "quadruped":
        from fbjax.envs.quadruped import quadruped_xml

        return mjx.put_model(mujoco.MjModel.from_xml_string(quadruped_xml(100, 50)), impl="jax")
    return envs.make(name).model


OBSERVATIONS = {"quadruped": quadruped._common_observations,
                "humanoid": humanoid.Humanoid(move_speed=0, pure_state=False,
                                              random=0).get_observation}


@pytest.mark.parametrize("name", ["quadruped", "humanoid"])
def test_legged_observations_are_dm_controls(name):
    """fbjax's observation function has DM Control's layout and values, on states of DM
    Control's own random-action rollouts (DM Control's physics, forward-computed with the
    action as control; quadruped: with the filter actuators' activations). Relative tolerance
    1e-5 (float32 through kinematics: ~100 roundings of 1.2e-7) for positions and velocities;
    1e-3 for the quadruped's accelerometer and toe forces/torques, which come out of the contact
    solve, whose float32 error is about eps times the conditioning of its stiff contacts
    (solref 0.01 s at a 0.005 s step, armature 0.01: of order 1e4)."""
    from mujoco import mjx

    domain, model = envs.make(name), _observation_model(name)
    env, rng = ROLLOUT_ENVS[name](), np.random.default_rng(1)
    observe = jax.jit(lambda q, v, a, c: domain.observe(domain.refresh(
        model, mjx.make_data(model).replace(qpos=q, qvel=v, act=a, ctrl=c))))
    worst = np.zeros(domain.obs_dim)
    for step in range(60):
        if step % 20 == 0:
            env.reset()
        action = rng.uniform(-1, 1, domain.action_dim)
        env.step(action)
        physics = env.physics
        physics.data.ctrl[:] = action
        mujoco.mj_forward(physics.model.ptr, physics.data.ptr)
        expected = np.concatenate([np.ravel(v) for v in OBSERVATIONS[name](physics).values()])
        state = physics.data
        ours = np.asarray(observe(*(jnp.asarray(x, jnp.float32) for x in
                                    (state.qpos, state.qvel, state.act, action))))
        assert ours.shape == expected.shape == (domain.obs_dim,)
        relative = np.abs(ours - expected) / (1 + np.abs(expected))
        worst = np.maximum(worst, relative)
    solved = np.zeros(domain.obs_dim, bool)
    if name == "quadruped":  # accelerometer (48-50) and toe forces/torques (54-77)
        solved[48:51] = solved[54:] = True
    assert worst[~solved].max() < 1e-5, f"{name}: {worst[~solved].max():.2e}"
    assert worst[solved].max(initial=0) < 1e-3, f"{name}: {worst[solved].max():.2e}"


def test_importing_the_envs_keeps_stdout_clean_where_warp_is_missing(tmp_path):
    """mujoco.mjx prints "Failed to import warp" to stdout where warp is missing (the GPU image);
    the benchmarks print JSON lines there, so fbjax.envs sends that note to stderr. A stand-in
    `warp` package that fails to import plays the missing warp."""
    import os
    import subprocess
    import sys

    (tmp_path / "warp").mkdir()
    (tmp_path / "warp" / "__init__.py").write_text("raise ImportError('no warp here')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    proc = subprocess.run([sys.executable, "-c", "import fbjax.envs"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Failed to import warp" in proc.stderr  # the stand-in took effect
    assert proc.stdout == ""


def test_register_and_action_repeat_make_a_coarser_maze_the_pipeline_can_name(monkeypatch):
    """A registered domain is made by name; with_action_repeat(maze, 4) holds each action for 4
    physics steps of 0.02 s, so one of its steps equals four of the maze's under the same action,
    and its episodes last 250 steps (20 s as before)."""
    monkeypatch.setattr(envs, "_FACTORIES", dict(envs._FACTORIES))  # registrations end here
    base = envs.make("point_mass_maze")
    envs.register("point_mass_maze_x4_test", lambda: envs.with_action_repeat(
        base, 4, "point_mass_maze_x4_test"))
    coarse = envs.make("point_mass_maze_x4_test")
    assert coarse.episode_length == 250 and coarse.n_substeps == 4
    state = base.reset(jax.random.PRNGKey(3))
    action = jnp.array([0.7, -0.4])
    fine = state
    for _ in range(4):
        fine = base.step(fine, action)
    np.testing.assert_allclose(coarse.step(state, action).obs, fine.obs, atol=1e-6)
    with pytest.raises(ValueError, match="built-in domain"):
        envs.register("walker", lambda: base)
    envs.register("misnamed_test", lambda: base)
    with pytest.raises(ValueError, match="must return a Domain named 'misnamed_test'"):
        envs.make("misnamed_test")
    with pytest.raises(ValueError, match="divide the episode length 1000"):
        envs.with_action_repeat(base, 3)
