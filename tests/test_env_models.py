"""The MJX domains' models against their sources: the maze's walls and geometry (ExoRL's MJCF),
the quadruped's MJCF (DM Control's), the legged domains' starts and observations (DM Control's),
MJX against MuJoCo C, a registered domain with action repeat, and stdout kept clean for the
benchmarks. The rewards are checked in tests/test_envs.py."""

import functools
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

import fbjax.envs as envs

pytest.importorskip("dm_control.suite")
from dm_control.suite import humanoid, quadruped  # noqa: E402

from tests.test_envs import ROLLOUT_ENVS  # noqa: E402


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_maze_walls_stop_the_mass_and_episodes_start_in_the_top_left_room():
    domain = envs.make("point_mass_maze")
    starts = np.asarray(jax.vmap(lambda k: domain.reset(k).obs)(
        jax.random.split(jax.random.PRNGKey(0), 256)))
    assert np.all((starts[:, 0] >= -0.29) & (starts[:, 0] <= -0.15))
    assert np.all((starts[:, 1] >= 0.15) & (starts[:, 1] <= 0.29)) and not starts[:, 2:].any()
    step, start = jax.jit(domain.step), jax.jit(domain.reset)(jax.random.PRNGKey(0))

    def push(qpos, action, steps=100):
        state = start
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


@pytest.mark.slow  # compiles the quadruped and humanoid
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


@pytest.mark.parametrize("name", [pytest.param("quadruped", marks=pytest.mark.slow), "humanoid"])
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
    (tmp_path / "warp").mkdir()
    (tmp_path / "warp" / "__init__.py").write_text("raise ImportError('no warp here')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    proc = subprocess.run([sys.executable, "-c", "import fbjax.envs"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Failed to import warp" in proc.stderr  # the stand-in took effect
    assert proc.stdout == ""


@pytest.mark.slow  # over 15 s here (docs/testing.md)
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
    state = jax.jit(base.reset)(jax.random.PRNGKey(3))
    action = jnp.array([0.7, -0.4])
    fine, fine_step = state, jax.jit(base.step)  # compiled: op by op, an MJX step takes seconds
    for _ in range(4):
        fine = fine_step(fine, action)
    np.testing.assert_allclose(jax.jit(coarse.step)(state, action).obs, fine.obs, atol=1e-6)
    with pytest.raises(ValueError, match="built-in domain"):
        envs.register("walker", lambda: base)
    envs.register("misnamed_test", lambda: base)
    with pytest.raises(ValueError, match="must return a Domain named 'misnamed_test'"):
        envs.make("misnamed_test")
    with pytest.raises(ValueError, match="divide the episode length 1000"):
        envs.with_action_repeat(base, 3)
