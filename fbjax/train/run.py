"""A training run that owns its directory: build or resume, train, save; and loading FB runs.

    RUN_DIR/config.json    what the run is (its description: settings, data, sizes, seed)
    RUN_DIR/<step>/        orbax checkpoints of the full state (the last `keep_checkpoints`)
    RUN_DIR/metrics/       metrics.jsonl and TensorBoard events

The same function trains FB (tabular and MJX), the TD3 oracles and anything else that follows
`fbjax.agent.Agent`, on one device or sharded over every device of every process.
"""

import dataclasses
import os
from typing import Any

import jax
import numpy as np

from fbjax.agent import Agent
from fbjax.configs import differences, from_dict, to_dict
from fbjax.fb.config import FBConfig
from fbjax.fb.learner import FBAgent, FBState
from fbjax.train.checkpoint import Checkpointer, read_config
from fbjax.train.lock import folder_lock
from fbjax.train.loop import ProgressFn, fit, local_step, print_progress
from fbjax.train.metrics import MetricsWriter
from fbjax.train.sharding import make_mesh, process_rows, replicate, shard_dataset, sharded_steps

# seeds: fbjax.train.seeds.train_seeds; cores: fbjax.train.cores.run_on_cores (the MJX pipeline)
PARALLEL = ("single", "sharded", "seeds", "cores")
# Settings a run may change when it resumes: how long it trains and how it is laid out.
RESUMABLE = ("train.num_steps", "train.parallel", "train.max_seconds")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How a run trains; shared by every agent and every pipeline (tabular and MJX)."""

    num_steps: int = 10_000
    steps_per_call: int = 1000
    save_every: int = 5000  # a multiple of steps_per_call
    keep_checkpoints: int = 2
    # "single"; "sharded": data-parallel over every device of every process; "seeds": every seed
    # of a pipeline in one program (fbjax.train.seeds; a lone run trains as "single"); "cores":
    # a pipeline's FB seeds in parallel processes, each pinned to its own CPU core (the MJX
    # pipeline's train_all; on one CPU host; elsewhere the seeds train one after another)
    parallel: str = "single"
    # Stop after the compiled call during which this many seconds of training have passed, and
    # save that step (0: no limit). A run stopped so resumes like any other: the time a lease
    # or a job allows, spent on updates rather than on a guess at the update rate.
    max_seconds: float = 0.0

    def __post_init__(self):
        for name in ("num_steps", "steps_per_call", "save_every", "keep_checkpoints"):
            if getattr(self, name) < (0 if name == "num_steps" else 1):
                raise ValueError(f"TrainConfig.{name} must be >= "
                                 f"{0 if name == 'num_steps' else 1}, got {getattr(self, name)}")
        if self.save_every % self.steps_per_call:
            raise ValueError(f"TrainConfig.save_every={self.save_every} must be a multiple of "
                             f"steps_per_call={self.steps_per_call}")
        if self.max_seconds < 0:
            raise ValueError(f"TrainConfig.max_seconds must be >= 0 (0: no limit), got "
                             f"{self.max_seconds}")
        if self.parallel not in PARALLEL:
            raise ValueError(f"TrainConfig.parallel {self.parallel!r} is not one of {PARALLEL}")


@dataclasses.dataclass(frozen=True)
class FBRun:
    """What an FB run is, as its config.json records it (beside the training settings and seed
    `train_run` adds): the FB config, the observation and action sizes, and its data: the path
    (relative to the folder the run lives in, so a moved folder keeps working), the domain and
    its tasks, where there are ones. config.json keeps one flat object (`to_json`)."""

    fb: FBConfig
    obs_dim: int
    action_dim: int
    dataset: str | None = None
    domain: str | None = None
    tasks: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"dataset": self.dataset, "domain": self.domain,
                "tasks": None if self.tasks is None else list(self.tasks)}
        return {"fb": to_dict(self.fb), **{k: v for k, v in data.items() if v is not None},
                "obs_dim": self.obs_dim, "action_dim": self.action_dim}

    @classmethod
    def from_json(cls, obj: dict[str, Any], where: str) -> "FBRun":
        """The run in a config.json (`where`); the FB config is read strictly, the description's
        other keys (training settings, seed, a user's own) are left out."""
        missing = [f for f in ("fb", "obs_dim", "action_dim") if f not in obj]
        if missing:
            raise ValueError(f"{where}: no {missing}; is it an FB run's config.json?")
        fb = from_dict(FBConfig, obj.get("fb"), f"{where}: fb")
        fields = {f.name for f in dataclasses.fields(cls)} - {"fb"}
        return from_dict(cls, {**{k: v for k, v in obj.items() if k in fields}, "fb": fb}, where)


def _described(description: "dict[str, Any] | FBRun") -> dict[str, Any]:
    return description.to_json() if isinstance(description, FBRun) else description


def is_sharded(config: TrainConfig) -> bool:
    return config.parallel == "sharded" or jax.process_count() > 1


def train_run(agent: Agent, dataset, run_dir: str, description: dict[str, Any] | FBRun,
              config: TrainConfig, seed: int, progress_fn: ProgressFn | None = print_progress,
              label: str = "") -> Any:
    """Trains `agent` on `dataset` (a host pytree, the same on every process) in `run_dir` until
    `config.num_steps`, resuming from the last checkpoint when there is one.

    `description` (JSON-able, or an `FBRun`) says what the run is; `train` and `seed` are added
    to it. A resumed run must have the same description except for RESUMABLE; the error lists
    each other leaf that differs with both values. Returns the final state (replicated when
    sharded).

    A second process training in the same `run_dir` at the same time is refused (a lock), and a
    dataset with fewer rows than one batch is refused before anything is written."""
    check_batch(agent, dataset, run_dir, label)
    with folder_lock(run_dir, "give this run another directory"):
        return _train_locked(agent, dataset, run_dir, description, config, seed, progress_fn,
                             label)


def _train_locked(agent, dataset, run_dir, description, config, seed, progress_fn, label):
    place, make_steps = (lambda state: state), None
    if is_sharded(config):
        mesh = make_mesh()
        local = process_rows(len(jax.tree.leaves(dataset)[0]))
        dataset = shard_dataset(jax.tree.map(lambda x: np.asarray(x)[local], dataset), mesh)

        def place(state):
            return replicate(state, mesh)

        def make_steps(n):
            return sharded_steps(agent, mesh, n)
    else:
        dataset = jax.device_put(dataset)  # once, not at every compiled call
    checkpointer, state, train_key = open_run(agent, run_dir, description, config, seed, label,
                                              place)
    writer = MetricsWriter(os.path.join(checkpointer.directory, "metrics"))
    return fit_and_save(agent, state, dataset, config, train_key, checkpointer, writer,
                        make_steps, progress_fn, closing=[checkpointer])


# The steps every training driver shares (train_run here, train_seeds for many seeds in one
# program): the batch check, opening a run, and fitting with its final save.

def check_batch(agent: Agent, dataset, run_dir: str, label: str) -> None:
    """A dataset with fewer rows than one batch is refused before anything is written."""
    rows = len(jax.tree.leaves(dataset)[0])
    if rows < agent.batch_size:
        raise ValueError(f"{label}{run_dir}: the dataset has {rows} rows, fewer than one batch "
                         f"(batch_size={agent.batch_size}); collect more data or lower the "
                         "batch size")


def open_run(agent: Agent, run_dir: str, description: dict[str, Any] | FBRun,
             config: TrainConfig, seed: int, label: str, place=lambda state: state):
    """The run's checkpointer, its state (fresh, placed by `place`, or resumed from its last
    checkpoint) and its training key; config.json is (re)written with `train` and `seed`."""
    described = {**_described(description), "train": to_dict(config), "seed": seed}
    checkpointer = Checkpointer(run_dir, max_to_keep=config.keep_checkpoints, cleanup=True)
    init_key, train_key = jax.random.split(jax.random.PRNGKey(seed))  # one stream per purpose
    state = place(agent.init(init_key))
    if checkpointer.latest_step() is not None:
        state = resume_state(checkpointer, state, described, label,
                             getattr(agent, "older_checkpoint_layout", None))
    checkpointer.write_config(described)
    return checkpointer, state, train_key


def fit_and_save(agent: Agent, state, dataset, config: TrainConfig, key, checkpoints, writer,
                 make_steps, progress_fn, closing: list):
    """`fit` to config.num_steps, then a save of the final step unless it was just saved; the
    writer and every checkpointer in `closing` are closed whatever happens."""
    try:
        state = fit(agent, state, dataset, num_steps=config.num_steps, key=key,
                    steps_per_call=config.steps_per_call, progress_fn=progress_fn,
                    checkpointer=checkpoints, save_every=config.save_every,
                    make_steps=make_steps, writer=writer, max_seconds=config.max_seconds)
        step = local_step(state.step)
        if checkpoints.latest_step() != step:
            checkpoints.save(step, state, {"step": step})
    finally:
        writer.close()
        for checkpointer in closing:
            checkpointer.close()
    return state


def resume_state(checkpointer: Checkpointer, state, description: dict[str, Any], label: str,
                 upgrade=None):
    """The latest intact checkpoint of a run whose saved description matches `description` up to
    RESUMABLE; otherwise a ValueError listing each difference (saved -> now). `upgrade`: see
    `Checkpointer.restore`."""
    saved = checkpointer.read_config()
    differ = [d for d in differences(saved, description)
              if not d.startswith(tuple(f"{r}:" for r in RESUMABLE))]
    if differ:
        raise ValueError(f"{checkpointer.directory} holds a run with other settings: "
                         f"{'; '.join(differ)} (saved -> now). Resume with the same settings "
                         f"(only {', '.join(RESUMABLE)} may change) or use another directory")
    state, _ = checkpointer.restore(state, upgrade=upgrade)
    step = local_step(state.step)
    if jax.process_index() == 0:
        print(f"{label}resumed from step {step} in {checkpointer.directory}", flush=True)
    return state


def load_fb(run_dir: str, step: int | None = None) -> tuple[FBAgent, FBState, FBRun]:
    """An FB run's agent, its state (latest step unless `step`) and what the run is (`FBRun`),
    from the run directory alone (its config.json records the FB config and the sizes)."""
    if not os.path.exists(os.path.join(run_dir, "config.json")):
        raise FileNotFoundError(f"load_fb: {run_dir} has no config.json; is it an FB run "
                                "directory written by fbjax.train.train_run?")
    run = FBRun.from_json(read_config(run_dir), f"{run_dir}/config.json")
    agent = FBAgent(run.fb, run.obs_dim, run.action_dim)
    checkpointer = Checkpointer(run_dir, max_to_keep=None)
    if checkpointer.latest_step() is None:
        raise FileNotFoundError(f"load_fb: {run_dir} holds no checkpoint")
    state, _ = checkpointer.restore(agent.init(jax.random.PRNGKey(0)), step,
                                    upgrade=agent.older_checkpoint_layout)
    checkpointer.close()
    return agent, state, run
