"""A physics domain with a task library, on MJX.

One `Domain` is one MuJoCo model (from MuJoCo Playground's copies of the DM Control Suite XMLs),
its reset distribution and observation, and a library of tasks. Every task reward is a pure JAX
function of the physics state s' reached by a step and the action that reached it, so rewards can
be vmapped over tasks and over stored samples (`fbjax.data.relabel`).

The stored physics state is the vector concat(qpos, qvel). Everything a reward or an observation
reads (body positions and frames, subtree linear velocity and angular momentum) is recomputed from
it, as DM Control's `Physics.forward` does after each step.
"""

import dataclasses
import importlib.util
import os
from collections.abc import Callable

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from flax import struct
from mujoco import mjx

TaskFn = Callable[[mjx.Data, jnp.ndarray], jnp.ndarray]


def playground_xml(name: str) -> str:
    """Path of a DM Control Suite model shipped inside the `playground` package.

    Found without importing `mujoco_playground` (whose import pulls in warp and brax)."""
    spec = importlib.util.find_spec("mujoco_playground")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"domain model {name!r} is MuJoCo Playground's copy of the DM "
                                  "Control Suite model, inside the `playground` package: pip "
                                  "install -c constraints.txt -e \".[dmc]\" (the maze, fbjax's "
                                  "own model, needs none)")
    root = spec.submodule_search_locations[0]
    return os.path.join(root, "_src", "dm_control_suite", "xmls", f"{name}.xml")


@struct.dataclass
class EnvState:
    """One environment's state: the MJX data (derived quantities up to date), obs, step count."""

    data: mjx.Data
    obs: jnp.ndarray
    t: jnp.ndarray


def refresh_kinematics(model: mjx.Model, data: mjx.Data) -> mjx.Data:
    """Frames, centres of mass and subtree momenta of (qpos, qvel): all that rewards read."""
    data = mjx.kinematics(model, data)
    data = mjx.com_pos(model, data)
    data = mjx.com_vel(model, data)
    return mjx.subtree_vel(model, data)


def refresh_full(model: mjx.Model, data: mjx.Data) -> mjx.Data:
    """`mjx.forward` (contacts and sensors too) plus the subtree momenta."""
    return mjx.subtree_vel(model, mjx.forward(model, data))


def randomize_joints(mj_model: mujoco.MjModel, key: jnp.ndarray) -> jnp.ndarray:
    """qpos as DM Control's `randomize_limited_and_rotational_joints` draws it.

    Limited hinge/slide joints: uniform in their range; unlimited hinges: uniform in [-pi, pi];
    unlimited slides keep the model's reference position. A free joint keeps its position and
    takes the orientation DM Control draws, a quaternion of four U(0, 1) numbers normalised
    (so every component is >= 0: DM Control's own choice, kept for comparable starts).
    """
    hinge, slide = int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE)
    free = int(mujoco.mjtJoint.mjJNT_FREE)
    low = np.array(mj_model.qpos0, dtype=np.float32)
    high = low.copy()
    quaternions = []
    for j in range(mj_model.njnt):
        kind, adr = int(mj_model.jnt_type[j]), int(mj_model.jnt_qposadr[j])
        if kind == free:
            quaternions.append(adr + 3)
            continue
        if kind not in (hinge, slide):
            raise NotImplementedError(f"joint {j}: only hinge, slide and free joints are "
                                      "randomised")
        if mj_model.jnt_limited[j]:
            low[adr], high[adr] = mj_model.jnt_range[j]
        elif kind == hinge:
            low[adr], high[adr] = -np.pi, np.pi
    if not quaternions:  # the key as it always was: hinge/slide domains start as before
        return jax.random.uniform(key, low.shape, minval=low, maxval=high)
    key, *quat_keys = jax.random.split(key, 1 + len(quaternions))
    qpos = jax.random.uniform(key, low.shape, minval=low, maxval=high)
    for adr, k in zip(quaternions, quat_keys, strict=True):
        quat = jax.random.uniform(k, (4,))
        qpos = qpos.at[adr:adr + 4].set(quat / jnp.linalg.norm(quat))
    return qpos


@dataclasses.dataclass(frozen=True, eq=False)
class Domain:
    """A physics model, its reset, its observation and its tasks (see the module docstring)."""

    name: str
    mj_model: mujoco.MjModel
    model: mjx.Model
    n_substeps: int
    observe: Callable[[mjx.Data], jnp.ndarray]
    tasks: dict[str, TaskFn]
    refresh: Callable[[mjx.Model, mjx.Data], mjx.Data] = refresh_kinematics
    settle_steps: int = 0
    episode_length: int = 1000
    # key -> qpos of a fresh episode; None: DM Control's randomisation of every limited joint
    initial_qpos: Callable[[jnp.ndarray], jnp.ndarray] | None = None
    # key -> qvel of a fresh episode (the same key as initial_qpos); None: at rest
    initial_qvel: Callable[[jnp.ndarray], jnp.ndarray] | None = None
    # key -> qpos spread over all the space the body can be in, for reward-free collection that
    # is not bound to the tasks' start distribution (CollectConfig.start="anywhere"); None: the
    # domain offers none (its own reset already spreads, or nothing simple does)
    anywhere_qpos: Callable[[jnp.ndarray], jnp.ndarray] | None = None
    # Goal spaces for B (FBConfig.goal_indices): name -> the observation coordinates it keeps
    goal_spaces: dict[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)
    # The domain whose datasets this one reads as its own (same model, observation and
    # dynamics; more tasks): set by `fbjax.envs.with_tasks`; None: its own name only
    data_of: str | None = None

    # -- sizes ---------------------------------------------------------------------------------
    @property
    def action_dim(self) -> int:
        return int(self.mj_model.nu)

    @property
    def physics_dim(self) -> int:
        return int(self.mj_model.nq + self.mj_model.nv)

    @property
    def obs_dim(self) -> int:
        return int(jax.eval_shape(self.observe, mjx.make_data(self.model)).shape[0])

    @property
    def task_names(self) -> tuple[str, ...]:
        return tuple(self.tasks)

    # -- dynamics -----------------------------------------------------------------------------
    def reset(self, key: jnp.ndarray) -> EnvState:
        qpos = (self.initial_qpos(key) if self.initial_qpos is not None
                else randomize_joints(self.mj_model, key))
        data = mjx.make_data(self.model).replace(qpos=qpos)
        if self.initial_qvel is not None:
            data = data.replace(qvel=self.initial_qvel(key))
        if self.settle_steps:
            data = jax.lax.fori_loop(0, self.settle_steps,
                                     lambda _, d: mjx.step(self.model, d), data)
            data = data.replace(time=jnp.zeros_like(data.time))
        data = self.refresh(self.model, data)
        return EnvState(data=data, obs=self.observe(data), t=jnp.zeros((), jnp.int32))

    def step(self, state: EnvState, action: jnp.ndarray) -> EnvState:
        """One control step: `n_substeps` physics steps with ctrl = clip(action, -1, 1)."""
        data = state.data.replace(ctrl=jnp.clip(action, -1.0, 1.0))
        data = jax.lax.fori_loop(0, self.n_substeps, lambda _, d: mjx.step(self.model, d), data)
        data = self.refresh(self.model, data)
        return EnvState(data=data, obs=self.observe(data), t=state.t + 1)

    # -- physics state <-> rewards -----------------------------------------------------------
    def physics(self, state: EnvState) -> jnp.ndarray:
        """The vector to store for relabelling: concat(qpos, qvel)."""
        return jnp.concatenate([state.data.qpos, state.data.qvel])

    def data_from_physics(self, physics: jnp.ndarray, action: jnp.ndarray) -> mjx.Data:
        nq = self.mj_model.nq
        physics, action = jnp.asarray(physics), jnp.asarray(action)  # mjx rejects numpy leaves
        data = mjx.make_data(self.model).replace(
            qpos=physics[:nq], qvel=physics[nq:], ctrl=jnp.clip(action, -1.0, 1.0))
        return refresh_kinematics(self.model, data)

    def task_rewards(self, data: mjx.Data, action: jnp.ndarray) -> jnp.ndarray:
        """Rewards of every task (in `task_names` order) for refreshed data."""
        action = jnp.clip(action, -1.0, 1.0)
        return jnp.stack([fn(data, action) for fn in self.tasks.values()])

    def rewards(self, physics: jnp.ndarray, action: jnp.ndarray) -> jnp.ndarray:
        """Rewards of every task for one stored (next_physics, action): shape (num_tasks,)."""
        return self.task_rewards(self.data_from_physics(physics, action), action)

    def reward(self, task: str, physics: jnp.ndarray, action: jnp.ndarray) -> jnp.ndarray:
        fn = self.task_fn(task)
        return fn(self.data_from_physics(physics, action), jnp.clip(action, -1.0, 1.0))

    def task_fn(self, task: str) -> TaskFn:
        if task not in self.tasks:
            raise KeyError(f"domain {self.name!r} has no task {task!r}; "
                           f"its tasks are {list(self.tasks)}")
        return self.tasks[task]


def load_model(name: str, timestep: float | None = None) -> tuple[mujoco.MjModel, mjx.Model]:
    """The Playground copy of a DM Control model, on MJX's JAX implementation."""
    mj_model = mujoco.MjModel.from_xml_path(playground_xml(name))
    if timestep is not None:
        mj_model.opt.timestep = timestep
    return mj_model, mjx.put_model(mj_model, impl="jax")


def body_id(mj_model: mujoco.MjModel, name: str) -> int:
    return mujoco.mj_name2id(mj_model, mujoco.mjtObj.mjOBJ_BODY, name)


def geom_id(mj_model: mujoco.MjModel, name: str) -> int:
    return mujoco.mj_name2id(mj_model, mujoco.mjtObj.mjOBJ_GEOM, name)


def sensor_slice(mj_model: mujoco.MjModel, name: str) -> slice:
    i = mujoco.mj_name2id(mj_model, mujoco.mjtObj.mjOBJ_SENSOR, name)
    adr, dim = int(mj_model.sensor_adr[i]), int(mj_model.sensor_dim[i])
    return slice(adr, adr + dim)
