"""What every stage of the MJX pipeline shares: the workdir's layout, its one-writer lock, and
the checked dataset.

    WORKDIR/dataset            the collected (or ExoRL-imported) dataset
    WORKDIR/fb/seed_S          FB checkpoints + config.json
    WORKDIR/oracle/seed_S      TD3 oracle checkpoints
    WORKDIR/eval/results.json  one row per seed x task x method
    WORKDIR/report/            results.md, summary.json and the figures
"""

import dataclasses
import functools
import os

from fbjax.data.store import Dataset, load_dataset
from fbjax.pipeline.config import ExperimentConfig
from fbjax.train.lock import folder_lock


@dataclasses.dataclass(frozen=True)
class Workdir:
    """A workdir's layout (the module docstring's), as absolute paths."""
    root: str

    @classmethod
    def of(cls, config: ExperimentConfig) -> "Workdir":
        return cls(os.path.abspath(config.workdir))

    @property
    def dataset(self) -> str:
        return os.path.join(self.root, "dataset")

    @property
    def fb(self) -> str:
        return os.path.join(self.root, "fb")

    @property
    def oracle(self) -> str:
        return os.path.join(self.root, "oracle")

    @property
    def eval(self) -> str:
        return os.path.join(self.root, "eval")

    @property
    def results(self) -> str:
        """The evaluation's rows: WORKDIR/eval/results.json."""
        return os.path.join(self.eval, "results.json")

    @property
    def report(self) -> str:
        return os.path.join(self.root, "report")

    def run(self, kind: str, seed: int) -> str:
        """WORKDIR/KIND/seed_S: the run of seed S of "fb" or "oracle"."""
        if kind not in ("fb", "oracle"):
            raise ValueError(f"Workdir.run: kind must be 'fb' or 'oracle', got {kind!r}")
        return os.path.join(self.root, kind, f"seed_{seed}")

    def fb_run(self, seed: int) -> str:
        return self.run("fb", seed)

    def oracle_run(self, seed: int) -> str:
        return self.run("oracle", seed)


def run_dir(config: ExperimentConfig, kind: str, seed: int) -> str:
    """WORKDIR/KIND/seed_S of a config: `Workdir.of(config).run(kind, seed)`."""
    return Workdir.of(config).run(kind, seed)


def one_writer(stage):
    """A stage holds WORKDIR/.lock while it runs: a second pipeline on the same workdir is
    refused with a message instead of interleaving its writes."""
    @functools.wraps(stage)
    def locked(config: ExperimentConfig, *args, **kwargs):
        with folder_lock(Workdir.of(config).root, "give this run another --config.workdir"):
            return stage(config, *args, **kwargs)
    return locked


def load_checked(config: ExperimentConfig) -> Dataset:
    """WORKDIR/dataset, refused unless it is a dataset of the config's domain with that domain's
    observation, action and physics sizes."""
    path = Workdir.of(config).dataset
    if not os.path.exists(path):
        raise FileNotFoundError(f"no dataset at {path}; run python -m experiments.collect with "
                                "this --config first (python -m experiments.pipeline runs every "
                                "stage)")
    return load_dataset(path, config.domain)


def dataset_description(config: ExperimentConfig, dataset: Dataset) -> dict:
    """What a run's config.json records of its data. The dataset's path is relative to the
    workdir (always "dataset"), so a moved or copied workdir resumes and loads as before."""
    workdir = Workdir.of(config)
    return {"dataset": os.path.relpath(workdir.dataset, workdir.root),
            "domain": dataset.manifest.env, "tasks": list(dataset.manifest.tasks),
            "obs_dim": dataset.obs_dim, "action_dim": dataset.action_dim}
