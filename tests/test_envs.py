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


@pytest.mark.slow  # over 15 s here (docs/testing.md)
def test_episode_matches_a_step_by_step_loop():
    """`step` under `lax.scan` equals calling it from Python, and observations have the
    documented sizes."""
    domain = envs.make("point_mass")
    assert (domain.obs_dim, domain.action_dim, domain.physics_dim) == (4, 2, 4)
    actions = jax.random.uniform(jax.random.PRNGKey(1), (20, 2), minval=-1, maxval=1)
    start = jax.jit(domain.reset)(jax.random.PRNGKey(0))
    final, _ = jax.lax.scan(lambda s, a: (domain.step(s, a), None), start, actions)
    step = jax.jit(domain.step)
    state = start
    for a in actions:
        state = step(state, a)
    np.testing.assert_allclose(final.obs, state.obs, atol=1e-6)
    assert int(final.t) == 20
    # The mass moves: 20 steps of 0.02 s under random force leave it elsewhere.
    assert np.abs(np.asarray(final.obs[:2] - start.obs[:2])).max() > 1e-3
