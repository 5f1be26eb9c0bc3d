"""FB pretraining on a stored (MJX-collected or imported) dataset, and loading the result.

A run lives in its own directory: orbax checkpoints plus `config.json`, which records everything
needed to rebuild the agent (FB config, obs/action sizes, domain, dataset), so `load_fb(path)`
works from a notebook with nothing else at hand.
"""

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fbjax.data.store import load_dataset
from fbjax.fb.config import FBConfig
from fbjax.fb.learner import FBAgent, FBState
from fbjax.train.checkpoint import Checkpointer, read_config
from fbjax.train.loop import ProgressFn, train
from fbjax.types import Transition

_RESUMABLE = ("num_steps",)


def to_transitions(arrays: dict[str, np.ndarray]) -> Transition:
    return Transition(obs=jnp.asarray(arrays["obs"], jnp.float32),
                      action=jnp.asarray(arrays["action"], jnp.float32),
                      next_obs=jnp.asarray(arrays["next_obs"], jnp.float32),
                      terminal=jnp.asarray(arrays["terminal"], jnp.float32),
                      start=jnp.asarray(arrays["start"], jnp.float32))


def run_description(fb: dict[str, Any], train_cfg: dict[str, Any], dataset: str,
                    manifest: dict[str, Any], arrays: dict[str, np.ndarray],
                    seed: int) -> dict[str, Any]:
    return {"fb": fb, "train": train_cfg, "seed": seed, "dataset": os.path.abspath(dataset),
            "domain": manifest["env"], "tasks": manifest["tasks"],
            "obs_dim": int(arrays["obs"].shape[1]), "action_dim": int(arrays["action"].shape[1])}


def train_fb(fb: dict[str, Any], train_cfg: dict[str, Any], dataset: str, run_dir: str,
             seed: int, progress_fn: ProgressFn | None = None) -> tuple[FBAgent, FBState]:
    """Trains (or resumes) FB on the dataset at `dataset` in `run_dir`.

    train_cfg: num_steps, steps_per_call, save_every (a multiple of steps_per_call),
    keep_checkpoints. Resuming needs the same settings; only num_steps may grow."""
    arrays, manifest = load_dataset(dataset)
    description = run_description(fb, train_cfg, dataset, manifest, arrays, seed)
    agent = FBAgent(FBConfig.from_dict(fb), description["obs_dim"], description["action_dim"])
    checkpointer = Checkpointer(run_dir, max_to_keep=train_cfg.get("keep_checkpoints", 2))
    state = agent.init(jax.random.PRNGKey(seed))
    if checkpointer.latest_step() is not None:
        saved = checkpointer.read_config()
        differ = sorted(k for k in set(saved) | set(description)
                        if k != "train" and saved.get(k) != description.get(k))
        differ += [f"train.{k}" for k in set(saved.get("train", {})) | set(train_cfg)
                   if k not in _RESUMABLE and saved["train"].get(k) != train_cfg.get(k)]
        if differ:
            raise ValueError(f"{run_dir} holds an FB run with other settings (differs in "
                             f"{sorted(differ)}); use the same settings or another directory")
        state, _ = checkpointer.restore(state)
        print(f"resumed FB from step {int(state.step)} in {run_dir}", flush=True)
    checkpointer.write_config(description)
    state = train(agent, state, to_transitions(arrays), num_steps=train_cfg["num_steps"],
                  seed=seed, steps_per_call=train_cfg["steps_per_call"],
                  progress_fn=progress_fn, checkpointer=checkpointer,
                  save_every=train_cfg["save_every"])
    step = int(state.step)
    if checkpointer.latest_step() != step:
        checkpointer.save(step, state, {"step": step})
    checkpointer.close()
    return agent, state


def load_fb(run_dir: str, step: int | None = None) -> tuple[FBAgent, FBState, dict[str, Any]]:
    """The agent, its state (latest step unless `step`) and the run's description."""
    if not os.path.exists(os.path.join(run_dir, "config.json")):
        raise FileNotFoundError(f"load_fb: {run_dir} has no config.json; is it an FB run "
                                "directory written by fbjax.train.offline.train_fb?")
    description = read_config(run_dir)
    agent = FBAgent(FBConfig.from_dict(description["fb"]), description["obs_dim"],
                    description["action_dim"])
    checkpointer = Checkpointer(run_dir, max_to_keep=None)
    if checkpointer.latest_step() is None:
        raise FileNotFoundError(f"load_fb: {run_dir} holds no checkpoint")
    state, _ = checkpointer.restore(agent.init(jax.random.PRNGKey(0)), step)
    checkpointer.close()
    return agent, state, description
