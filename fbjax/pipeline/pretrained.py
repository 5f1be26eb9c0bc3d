"""Which FB model the pipeline prompts: the seed's run in the workdir, or an inference
checkpoint from `ExperimentConfig.fb_from` (FOLDER/seed_S/, written by fbjax.train.export), so
that a model trained elsewhere (a GPU lease, another machine) runs as load -> prompt -> ZOL ->
evaluate on this machine's dataset."""

import os

from fbjax.configs import differences, to_dict
from fbjax.data.store import Manifest
from fbjax.fb.learner import FBAgent
from fbjax.fb.networks import FBParams
from fbjax.pipeline.config import ExperimentConfig
from fbjax.pipeline.workdir import Workdir
from fbjax.train.export import load_export
from fbjax.train.loop import local_step
from fbjax.train.run import FBRun, load_fb


def export_folder(config: ExperimentConfig, seed: int) -> str:
    return os.path.join(config.fb_from, f"seed_{seed}")


def check_export(config: ExperimentConfig, run: FBRun, manifest: Manifest, folder: str,
                 sizes: tuple[int, int] | None = None) -> None:
    """ValueError unless the export is the model this config describes, for this dataset's
    domain (and its observation and action sizes, where given)."""
    problems = differences(to_dict(run.fb), to_dict(config.fb), "fb")
    if run.domain is not None and manifest.env is not None and run.domain != manifest.env:
        problems.append(f"domain: {run.domain!r} -> {manifest.env!r}")
    if sizes is not None and (run.obs_dim, run.action_dim) != sizes:
        problems.append(f"(obs_dim, action_dim): {(run.obs_dim, run.action_dim)} -> {sizes}")
    if problems:
        raise ValueError(f"fb_from: {folder} is another model than this config and dataset "
                         f"describe: {'; '.join(problems)} (export -> config). Give the export's "
                         "settings (--config.fb.x=...) or the dataset it was trained for")


def check_steps(config: ExperimentConfig, seed: int, trained: int, where: str) -> None:
    """ValueError unless seed's model has trained the config's train.num_steps updates."""
    if trained >= config.train.num_steps:
        return
    first = ("it was exported at that update;" if config.fb_from else
             "run python -m experiments.train with the same config first, or, for a run that "
             "train.max_seconds stopped,")
    raise ValueError(f"evaluate: FB seed {seed} in {where} has trained {trained} of the config's "
                     f"{config.train.num_steps} steps; {first} evaluate the steps it has with "
                     f"--config.train.num_steps={trained}")


def check_exports(config: ExperimentConfig, manifest: Manifest) -> dict[int, int]:
    """Every seed's export read and checked, its updates included; returns the updates each
    was trained for."""
    steps = {}
    for seed in config.seeds:
        folder = export_folder(config, seed)
        _, _, run, meta = load_export(folder)
        check_export(config, run, manifest, folder)
        steps[seed] = int(meta["step"])
        check_steps(config, seed, steps[seed], folder)
    return steps


def fb_model(config: ExperimentConfig, seed: int, manifest: Manifest,
             sizes: tuple[int, int]) -> tuple[FBAgent, FBParams, int]:
    """(agent, params, updates trained) of seed's FB model, checked against the config."""
    if not config.fb_from:
        run_dir = Workdir.of(config).fb_run(seed)
        agent, state, _ = load_fb(run_dir)
        trained = local_step(state.step)
        check_steps(config, seed, trained, run_dir)
        return agent, state.params, trained
    folder = export_folder(config, seed)
    agent, params, run, meta = load_export(folder)
    check_export(config, run, manifest, folder, sizes)
    check_steps(config, seed, int(meta["step"]), folder)
    return agent, params, int(meta["step"])
