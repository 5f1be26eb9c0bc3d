"""The experiment config trees: one frozen dataclass per pipeline, built once at the binary's edge
from the ml_collections config (`experiment_config(config.to_dict())`); the library below reads
only these dataclasses. Both pipelines share `TrainConfig` (fbjax.train) for every trained agent.
"""

import dataclasses
import itertools
from typing import Any

from fbjax.baselines.td3 import TD3Config
from fbjax.configs import from_dict
from fbjax.data.collect import CollectConfig
from fbjax.eval import methods as method_registry
from fbjax.fb.config import FBConfig
from fbjax.train.run import TrainConfig
from fbjax.zol.search import PUBLISHED, ZOLConfig


@dataclasses.dataclass(frozen=True)
class OracleConfig:
    """The offline TD3 oracle: one TD3 per task, all tasks in one program."""

    td3: TD3Config = TD3Config(hidden=256, layers=2, discount=0.99, batch_size=256)
    train: TrainConfig = TrainConfig(num_steps=10_000, steps_per_call=1000, save_every=5000)


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """How every method is prompted and rolled out, and how ZOL's setting is chosen.

    `zol` is the pre-registered arm (the authors' published regime, fixed in advance). The grid
    for `zol_selected` is `zol` with every combination of `grid_lr` x `grid_chi2_coef`; for each
    task the pipeline picks the grid setting that did best on the domain's *other* tasks (true
    returns, all seeds), so no task's setting is chosen on its own test return."""

    # Comma-separated, as the command line gives it: names of fbjax.eval.methods (the built-in
    # ones and prompts registered with register_prompt)
    methods: str = ",".join(method_registry.default_methods())
    tasks: str = ""  # comma-separated subset of the domain's tasks; "": all of them
    num_episodes: int = 100  # per task, method and seed; paired across methods
    episode_length: int = 0  # 0: the domain's
    inference_samples: int = 10_000  # the sample ZOL, rwr and the off-policy estimates read
    # Reward inference (z_r of `fb`, where ZOL and rwr start): "all", every dataset row; or
    # "sample", the `inference_samples` rows
    reward_prompt: str = "all"
    num_starts: int = 128  # episode starts (OPE's rho0) and dataset states (ZOL's `data`)
    rwr_iterations: int = 10
    control_draws: int = 3  # zol_control: random turns of z_r per prompt, returns averaged
    # Development seeds (a subset of the experiment's seeds): when given, zol_selected's setting
    # for each task is the one with the best mean return on that task over these seeds alone
    # (held-out seeds, SPEC section 7), and the report's tables show only the other, test seeds.
    # Empty: each task's setting is chosen on the other tasks, with the same seeds.
    selection_seeds: tuple[int, ...] = ()
    zol: ZOLConfig = PUBLISHED
    grid_lr: tuple[float, ...] = (1e-4, 5e-4)
    grid_chi2_coef: tuple[float, ...] = (0.0, 5e-3)
    bootstrap_reps: int = 2000
    key: int = 10_000  # evaluation randomness: seed s's episodes use fold_in(PRNGKey(key), s)

    def __post_init__(self):
        known = method_registry.names()
        unknown = [m for m in self.chosen if m not in known]
        if unknown or not self.chosen:
            raise ValueError(f"EvalConfig.methods {self.methods!r}: unknown {unknown}; expected "
                             f"one or more of {known}, comma-separated (a prompt of your own: "
                             "fbjax.eval.methods.register_prompt, and --import_module on the "
                             "command line)")
        if len(set(self.chosen)) != len(self.chosen):
            raise ValueError(f"EvalConfig.methods {self.methods!r} names a method twice")
        if self.reward_prompt not in ("all", "sample"):
            raise ValueError(f"EvalConfig.reward_prompt must be 'all' or 'sample', got "
                             f"{self.reward_prompt!r}")
        if "zol_control" in self.chosen and "zol_published" not in self.chosen:
            raise ValueError(f"EvalConfig.methods {self.methods!r}: zol_control turns z_r through "
                             "the angle zol_published moved it; add zol_published")
        for name in ("num_episodes", "inference_samples", "num_starts", "bootstrap_reps",
                     "control_draws"):
            if getattr(self, name) < 1:
                raise ValueError(f"EvalConfig.{name} must be >= 1, got {getattr(self, name)}")

    @property
    def chosen(self) -> tuple[str, ...]:
        return tuple(m.strip() for m in self.methods.split(",") if m.strip())

    def task_ids(self, domain_tasks: tuple[str, ...]) -> list[int]:
        """Indices of the evaluated tasks in the domain's task list (all when `tasks` is
        empty); a name the domain lacks is refused with the list it has."""
        names = [t.strip() for t in self.tasks.split(",") if t.strip()] or list(domain_tasks)
        unknown = [t for t in names if t not in domain_tasks]
        if unknown:
            raise ValueError(f"eval.tasks: {unknown} not task(s) of this domain; its tasks are "
                             f"{list(domain_tasks)}")
        if len(set(names)) != len(names):
            raise ValueError(f"eval.tasks {self.tasks!r} names a task twice")
        return [domain_tasks.index(t) for t in names]

    def grid(self) -> list[ZOLConfig]:
        """The ZOL settings searched in one program: `zol` first, then the grid around it."""
        around = [dataclasses.replace(self.zol, lr=lr, chi2_coef=c)
                  for lr, c in itertools.product(self.grid_lr, self.grid_chi2_coef)]
        return [self.zol] + [c for c in around if c != self.zol]


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """The MJX pipeline: collect -> train FB per seed -> evaluate every method -> report."""

    domain: str = "point_mass"
    seed: int = 0  # data collection
    seeds: tuple[int, ...] = (0,)  # FB and TD3 training seeds
    workdir: str = "runs/point_mass"
    collect: CollectConfig = CollectConfig()
    fb: FBConfig = FBConfig()
    train: TrainConfig = TrainConfig()
    oracle: OracleConfig = OracleConfig()
    eval: EvalConfig = EvalConfig()
    # A folder of inference checkpoints, seed_S/ for every seed (fbjax.train.export; written by
    # python -m experiments.export): the pipeline trains no FB and prompts these instead, after
    # checking that each is the model `fb` describes, for this dataset's domain. "": train.
    fb_from: str = ""

    def __post_init__(self):
        if not self.seeds:
            raise ValueError("seeds is empty; give at least one training seed")
        dev = self.eval.selection_seeds
        if dev and (set(dev) - set(self.seeds) or set(dev) >= set(self.seeds)):
            raise ValueError(f"eval.selection_seeds {list(dev)} must be some of seeds "
                             f"{list(self.seeds)}, leaving at least one test seed")


@dataclasses.dataclass(frozen=True)
class MDPConfig:
    name: str = "four_rooms"  # or "random"
    size: int = 7  # four_rooms
    slip: float = 0.0  # four_rooms
    num_states: int = 20  # random
    num_actions: int = 4  # random
    seed: int = 0  # random
    branching: int | None = None  # random

    def __post_init__(self):
        if self.name not in ("four_rooms", "random"):
            raise ValueError(f"env.name: unknown finite MDP {self.name!r}; expected "
                             "'four_rooms' or 'random'")


@dataclasses.dataclass(frozen=True)
class TabularDataConfig:
    num_episodes: int = 1000
    episode_length: int = 50
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class TabularConfig:
    """The tabular pipeline: FB on a finite MDP, in policy evaluation (of the uniform behaviour
    policy, `policy_eval_steps` updates) then control (`train.num_steps`), against exact answers."""

    seed: int = 0
    workdir: str = "runs/tabular"
    env: MDPConfig = MDPConfig()
    data: TabularDataConfig = TabularDataConfig()
    fb: FBConfig = FBConfig()
    policy_eval_steps: int = 2000  # 0 skips the phase
    train: TrainConfig = TrainConfig()  # num_steps: the control phase (0 skips it)
    num_goals: int = 8


def experiment_config(values: dict[str, Any]) -> ExperimentConfig | TabularConfig:
    """The typed tree of an experiment config dict: MJX configs have a `domain`, tabular ones an
    `env`."""
    if "domain" in values:
        return from_dict(ExperimentConfig, values, "config")
    return from_dict(TabularConfig, values, "config")
