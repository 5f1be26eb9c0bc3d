"""The offline TD3 oracle: one TD3 per task, trained on the same dataset with that task's reward,
all tasks at once (`fbjax.agent.Vmapped` over tasks), as an ordinary resumable training run."""

import numpy as np

from fbjax.agent import Vmapped
from fbjax.baselines.td3 import TD3
from fbjax.configs import to_dict
from fbjax.data.store import Dataset
from fbjax.train.loop import ProgressFn, print_progress
from fbjax.train.run import TrainConfig
from fbjax.train.seeds import train_runs
from fbjax.types import Labelled, Transition


def oracle_dataset(transitions: Transition | Dataset, rewards: np.ndarray) -> Labelled:
    """The rows TD3 samples: the transitions and every task's reward, rewards (N, T)."""
    return Labelled(**{k: np.asarray(getattr(transitions, k), np.float32)
                       for k in ("obs", "action", "next_obs", "terminal")},
                    reward=np.asarray(rewards, np.float32))


def train_oracles(td3: TD3, transitions: Transition | Dataset, rewards: np.ndarray,
                  run_dirs: dict[int, str], train: TrainConfig, description: dict | None = None,
                  progress_fn: ProgressFn | None = print_progress) -> dict:
    """rewards: (N, T). Trains (or resumes) T TD3 agents per seed, `run_dirs` {seed: directory},
    through the training driver (`fbjax.train.train_runs`: train.parallel="seeds" puts every
    seed x task in one program); returns {seed: TD3State whose leaves have a leading task axis
    T}."""
    agent, description = _oracle_run(td3, rewards, description)
    return train_runs(agent, oracle_dataset(transitions, rewards), run_dirs, description, train,
                      progress_fn, label="[oracle] ")


def _oracle_run(td3: TD3, rewards: np.ndarray, description: dict | None):
    num_tasks = rewards.shape[1]
    agent = Vmapped(td3, num_tasks, per_copy=("reward",))
    return agent, {**(description or {}), "td3": to_dict(td3.config), "num_tasks": num_tasks,
                   "obs_dim": td3.obs_dim, "action_dim": td3.action_dim}
