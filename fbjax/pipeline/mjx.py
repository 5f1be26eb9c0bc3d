"""The MJX pipeline behind the binaries: collect, train FB per seed, evaluate every method on
every task (the report is `fbjax.pipeline.mjx_report`, the workdir's layout and lock
`fbjax.pipeline.workdir`). Every function takes the typed `ExperimentConfig` and works under its
`workdir`:

    WORKDIR/dataset            the collected dataset          (experiments.collect; or one
                               imported with python -m fbjax.data.exorl, kept as it is)
    WORKDIR/fb/seed_S          FB checkpoints + config.json   (experiments.train; with
                               train.parallel="seeds" every seed in one program)
    WORKDIR/oracle/seed_S      TD3 oracle checkpoints         (experiments.evaluate, or
                               experiments.train --what=oracle)
    WORKDIR/eval/results.json  one row per seed x task x method (experiments.evaluate)
    WORKDIR/report/            results.md and the figures (experiments.report)
"""

import dataclasses
import functools
import json
import os
import shutil
import time

import jax
import jax.numpy as jnp
import numpy as np

import fbjax.envs as envs
from fbjax.baselines.td3 import TD3
from fbjax.configs import to_dict
from fbjax.data.collect import collect
from fbjax.data.exorl import SOURCE as EXORL
from fbjax.data.relabel import relabel
from fbjax.data.store import (
    Dataset,
    Manifest,
    append_dataset,
    check_env,
    read_manifest,
    save_dataset,
)
from fbjax.eval import methods
from fbjax.eval.evaluator import actor_policy, fb_policy, navigator_policy, random_policy
from fbjax.eval.methods import PromptContext, grid_name
from fbjax.eval.oracle import train_oracles
from fbjax.eval.results import Row
from fbjax.eval.zero_shot import (
    Latents,
    infer_latents,
    inference_data,
    matched_rotations,
    off_policy_estimates,
)
from fbjax.fb.inference import reward_inference_all
from fbjax.fb.learner import FBAgent
from fbjax.pipeline.arms import CONTROL_STREAM, add_control, add_zol_arms, select_settings, zol_arms
from fbjax.pipeline.config import ExperimentConfig
from fbjax.pipeline.pretrained import check_exports, fb_model
from fbjax.pipeline.rollouts import Rollouts
from fbjax.pipeline.workdir import Workdir, dataset_description, load_checked, one_writer
from fbjax.train.cores import run_on_cores
from fbjax.train.loop import print_progress
from fbjax.train.run import FBRun, is_sharded, load_fb, train_run
from fbjax.train.seeds import train_runs
from fbjax.zol.search import SearchInfo


@one_writer
def collect_data(config: ExperimentConfig) -> str:
    """Collects WORKDIR/dataset unless an identical one exists; returns its path."""
    domain = envs.make(config.domain)
    settings = config.collect
    env = _base(domain)  # a with_tasks copy collects its original's data
    description = {"domain": env, **to_dict(settings)}
    path = Workdir.of(config).dataset
    if os.path.exists(path):
        manifest = read_manifest(path)
        if manifest.source == EXORL:
            print(f"dataset {path} was imported from ExoRL ({manifest.collection.get('path')}, "
                  f"{manifest.rows} rows); keeping it and ignoring the collect settings",
                  flush=True)
            return path
        # Manifests from before CollectConfig.start existed collected from the task's starts.
        if ({"start": "task", **manifest.collection} == description
                and manifest.seed == config.seed):
            print(f"dataset {path} already holds this collection ({manifest.rows} rows); "
                  "keeping it", flush=True)
            return path
        raise FileExistsError(f"collect: {path} holds a dataset made with other settings "
                              f"({manifest.collection}, seed {manifest.seed}); "
                              "choose another --config.workdir or delete it")
    partial = path + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    print(f"collecting {settings.total_steps(domain):,} steps of {domain.name} with "
          f"{settings.policy} ({settings.num_envs} envs x {settings.num_episodes} episodes of "
          f"{settings.length(domain)} steps) into {path}", flush=True)

    def sink(arrays):
        if os.path.exists(os.path.join(partial, "manifest.json")):
            append_dataset(partial, arrays)
        else:
            save_dataset(partial, arrays, env=env, tasks=list(envs.make(env).task_names),
                         collection=description, seed=config.seed)

    collect(domain, settings, config.seed, sink)
    os.replace(partial, path)
    print(f"dataset written to {path}", flush=True)
    return path


def _base(domain) -> str:
    """The domain whose goals and data a `with_tasks` copy shares (the domain itself otherwise)."""
    return domain.data_of or domain.name


def _fb_agent(config: ExperimentConfig, dataset: Dataset) -> tuple[FBAgent, FBRun]:
    """The FB agent for the dataset and the description its runs record (the dataset's path
    relative to the workdir, as `dataset_description` records it for the oracles)."""
    workdir = Workdir.of(config)
    run = FBRun(fb=config.fb, obs_dim=dataset.obs_dim, action_dim=dataset.action_dim,
                dataset=os.path.relpath(workdir.dataset, workdir.root),
                domain=dataset.manifest.env, tasks=dataset.manifest.tasks)
    return FBAgent(config.fb, dataset.obs_dim, dataset.action_dim), run


def train_fb(config: ExperimentConfig, seed: int, dataset: Dataset | None = None,
             progress_fn=print_progress):
    """Trains (or resumes) FB for one seed in WORKDIR/fb/seed_S; returns (agent, state)."""
    if dataset is None:
        dataset = load_checked(config)
    agent, description = _fb_agent(config, dataset)
    run_dir = Workdir.of(config).fb_run(seed)
    layout = "sharded" if is_sharded(config.train) else "single"
    print(f"[train] FB seed {seed}: {config.train.num_steps} steps -> {run_dir} ({layout}, "
          f"{jax.device_count()} device(s), {jax.process_count()} process(es))", flush=True)
    state = train_run(agent, dataset.transitions(), run_dir, description, config.train, seed,
                      progress_fn=progress_fn, label="[train] ")
    return agent, state


def _train_seed_on_a_core(config: ExperimentConfig, seed: int) -> None:
    train_fb(config, seed, progress_fn=functools.partial(print_progress,
                                                         prefix=f"[seed {seed}] "))


@one_writer
def train_all(config: ExperimentConfig) -> dict[int, object]:
    """FB for every seed of the config; returns the final state per seed."""
    workdir = Workdir.of(config)
    if not os.path.exists(workdir.dataset):
        raise FileNotFoundError(f"train: no dataset at {workdir.dataset}; run python -m "
                                "experiments.collect with the same --config.workdir first")
    # Checked before any worker starts.
    manifest = read_manifest(workdir.dataset)
    check_env(manifest, workdir.dataset, config.domain)
    if config.fb_from:
        steps = check_exports(config, manifest)
        print(f"[train] FB seeds {list(config.seeds)} from the inference checkpoints in "
              f"{config.fb_from} ({', '.join(f'seed {s}: {n} updates' for s, n in steps.items())})"
              "; nothing to train", flush=True)
        return {}
    if config.train.parallel == "cores" and len(config.seeds) > 1:
        if jax.process_count() == 1 and jax.default_backend() == "cpu":
            single = dataclasses.replace(config, train=dataclasses.replace(config.train,
                                                                           parallel="single"))
            print(f"[train] FB seeds {list(config.seeds)}: {config.train.num_steps} steps each, "
                  "one worker process per CPU core", flush=True)
            cores = run_on_cores(_train_seed_on_a_core, [(single, s) for s in config.seeds])
            print(f"[train] the workers ran on cores {cores}", flush=True)
            return {seed: load_fb(Workdir.of(config).fb_run(seed))[1]
                    for seed in config.seeds}
        # The CPU default run elsewhere: an accelerator is kept busier by "seeds".
        print(f"[train] train.parallel='cores' is for one CPU host; on {jax.process_count()} "
              f"process(es) with {jax.default_backend()!r} the seeds train one after another "
              "(--config.train.parallel=seeds trains them in one program)", flush=True)
    dataset = load_checked(config)
    agent, description = _fb_agent(config, dataset)
    run_dirs = {seed: workdir.fb_run(seed) for seed in config.seeds}
    print(f"[train] FB seeds {list(config.seeds)}: {config.train.num_steps} steps each -> "
          f"{workdir.fb} ({jax.device_count()} device(s), {jax.process_count()} process(es))",
          flush=True)
    return train_runs(agent, dataset.transitions(), run_dirs, description, config.train,
                      label="[train] ")


def _flat_zol_info(info: SearchInfo, g: int) -> dict[str, np.ndarray]:
    """Grid setting g's per-task ZOL diagnostics as flat row fields: zol_X at the chosen z,
    zol_X_z0 at z_r."""
    out = {"zol_cos_z0": np.asarray(info.cos_z0[g])}
    at_z0 = info.at_z0.fields()
    for k, v in info.at_z.fields().items():
        out[f"zol_{k}"] = np.asarray(v[g])
        out[f"zol_{k}_z0"] = np.asarray(at_z0[k][g])
    return out


def _evaluate_fb(config: ExperimentConfig, rollouts: Rollouts, dataset: Dataset, rewards, goals,
                 seed, key) -> None:
    ev, task_ids = config.eval, rollouts.task_ids
    agent, params, rollouts.fb_steps[seed] = fb_model(config, seed, dataset.manifest,
                                                      (dataset.obs_dim, dataset.action_dim))
    data = inference_data(dataset, rewards, ev.inference_samples, ev.num_starts, seed)
    rollouts.count_rewarded(seed, rewards, data.rewards)
    grid = ev.grid() if zol_arms(ev) else []
    began = time.perf_counter()
    z_r = (reward_inference_all(agent.networks, params.backward, dataset.next_obs,
                                rewards) if ev.reward_prompt == "all" else None)
    zs = jax.tree.map(np.asarray, infer_latents(
        agent, params, data, grid, ev.rwr_iterations if "rwr" in ev.chosen else 0, z_r))
    print(f"[evaluate] seed {seed}: reward inference, ZOL ({len(grid)} settings x "
          f"{len(task_ids)} tasks x {ev.zol.steps} steps, one program) and regression in "
          f"{time.perf_counter() - began:.1f}s", flush=True)
    latents = {"fb": zs.fb} | ({} if zs.rwr is None else {"rwr": zs.rwr})
    context = PromptContext(agent, params, data, latents, tuple(rollouts.tasks), goals, key)
    prompts = _prompts(context, zs, ev.chosen)
    control = (np.asarray(matched_rotations(zs.fb, zs.grid[0],
                                            jax.random.fold_in(key, CONTROL_STREAM),
                                            ev.control_draws))
               if "zol_control" in ev.chosen else np.zeros((0, *zs.fb.shape)))
    stacked = jnp.concatenate([jnp.asarray(z) for z in (*(z for z, _ in prompts.values()),
                                                         *control)])
    out = rollouts.run("fb", fb_policy(agent.networks), params, stacked,
                       jnp.tile(task_ids, len(prompts) + len(control)), key)
    for i, (name, (z, g)) in enumerate(prompts.items()):
        ope = jax.tree.map(np.asarray, off_policy_estimates(agent, params, data,
                                                             jnp.asarray(z)))
        extra = {f"ope_{k}": v for k, v in ope.items()}
        if g is not None:  # ZOL's grid setting g
            extra.update(_flat_zol_info(zs.grid_info, g))
            extra["setting"] = np.full(len(task_ids), g)
        rollouts.add(seed, name, out, i * len(task_ids), extra)
    if len(control):
        add_control(rollouts, seed, out, len(prompts) * len(task_ids), control, zs.fb)
    published = jax.tree.map(lambda v: v[0], zs.grid_info)  # grid setting 0, per task
    for t, task in enumerate(rollouts.tasks if grid else ()):
        info = jax.tree.map(lambda v, t=t: float(v[t]), published)
        at_z = info.at_z
        print(f"[evaluate] seed {seed} {task} zol_published: cos(z, z_r) {info.cos_z0:.3f}"
              f"  ESS {at_z.ess:.3f}  chi2 {at_z.chi2:.2f}  max w {at_z.max_w:.1f}"
              f"  l<0 {at_z.frac_negative:.2f}  c_z {at_z.c_z:.2f}  "
              f"O {info.at_z0.objective:.3g} -> {at_z.objective:.3g}", flush=True)


def _goals(rollouts: Rollouts, chosen) -> np.ndarray | None:
    """Each evaluated task's goal (T, 2), where a chosen method needs goals."""
    if not any(methods.get(m).needs_goals for m in chosen):
        return None
    return np.asarray(envs.navigator_goals(_base(rollouts.domain), rollouts.tasks))


def _prompts(context: PromptContext, zs: Latents, chosen
             ) -> dict[str, tuple[np.ndarray, int | None]]:
    """name -> ((T, d) latents, ZOL grid setting or None), in rollout order: fb (where ZOL
    starts), ZOL's grid, then the other chosen prompts in the registry's order. A registered
    prompt that returns another shape is refused, naming it."""
    grid = {grid_name(g): (z, g) for g, z in enumerate(() if zs.grid is None else zs.grid)}
    out = {"fb": (zs.fb, None), **grid}
    for method in methods.prompts(chosen):
        if method.name == "fb":
            continue
        z = np.asarray(method.prompt(context), np.float32)
        if z.shape != zs.fb.shape:
            raise ValueError(f"evaluate: method {method.name!r}'s prompt returned latents of "
                             f"shape {z.shape}; expected {zs.fb.shape} (one z per task of "
                             f"{list(context.tasks)})")
        out[method.name] = (z, None)
    return out


def train_oracle(config: ExperimentConfig, dataset: Dataset, rewards, seed: int):
    """Trains (or resumes) the TD3 oracles of every task for one seed in WORKDIR/oracle/seed_S."""
    td3 = TD3(config.oracle.td3, dataset.obs_dim, dataset.action_dim)
    run_dir = Workdir.of(config).oracle_run(seed)
    print(f"[oracle] TD3 seed {seed}: {config.oracle.train.num_steps} steps for each of "
          f"{rewards.shape[1]} tasks at once -> {run_dir}", flush=True)
    state = train_oracles(td3, dataset, rewards, {seed: run_dir}, config.oracle.train,
                          dataset_description(config, dataset))[seed]
    return td3, state


@one_writer
def train_oracles_all(config: ExperimentConfig) -> None:
    """The TD3 oracles of every seed on the evaluated tasks, as evaluation would train them first
    (`experiments.train --what=oracle`: on an accelerator lent for a short time, training and
    evaluation can then run as separate calls)."""
    domain = envs.make(config.domain)
    dataset = load_checked(config)
    rewards = _task_rewards(domain, config.eval.task_ids(domain.task_names), dataset)
    _train_oracles(config, dataset, rewards)


def _train_oracles(config: ExperimentConfig, dataset: Dataset, rewards) -> None:
    """The TD3 oracles of every seed (x every task) through the training driver."""
    td3 = TD3(config.oracle.td3, dataset.obs_dim, dataset.action_dim)
    print(f"[oracle] TD3 seeds {list(config.seeds)}: {config.oracle.train.num_steps} steps for "
          f"each of {rewards.shape[1]} tasks at once -> {Workdir.of(config).oracle}", flush=True)
    train_oracles(td3, dataset, rewards,
                  {seed: Workdir.of(config).oracle_run(seed) for seed in config.seeds},
                  config.oracle.train, dataset_description(config, dataset))


def _task_rewards(domain, task_ids: list[int], dataset: Dataset) -> np.ndarray:
    """(N, tasks) rewards of the evaluated tasks for every stored transition."""
    return np.asarray(relabel(domain, dataset.next_physics, dataset.action))[:, task_ids]


def _evaluate_oracle(config: ExperimentConfig, rollouts: Rollouts, dataset: Dataset, rewards,
                     seed, key) -> None:
    td3, td3_state = train_oracle(config, dataset, rewards, seed)
    out = rollouts.run("td3", actor_policy(td3.act), None, td3_state.actor, rollouts.task_ids,
                       key)
    rollouts.add(seed, "td3", out)


@one_writer
def evaluate_all(config: ExperimentConfig) -> list[Row]:
    """Every chosen method x every task x every seed, paired (one evaluation key per seed, shared
    by every method); rows written to WORKDIR/eval/results.json with the ZOL selection, after
    every seed (see `_write_results`)."""
    ev = config.eval
    domain = envs.make(config.domain)
    task_ids = ev.task_ids(domain.task_names)
    dataset = load_checked(config)
    print(f"[evaluate] relabelling {dataset.rows:,} transitions for {len(task_ids)} tasks",
          flush=True)
    rewards = _task_rewards(domain, task_ids, dataset)
    rollouts = Rollouts(domain, task_ids, ev.num_episodes, ev.episode_length or None,
                         config.fb.discount)
    num_tasks = len(task_ids)
    fb_family = any(methods.is_fb_family(m) for m in ev.chosen)
    goals = _goals(rollouts, ev.chosen)  # the navigator's and fb_goal's, once
    if "td3" in ev.chosen and config.oracle.train.parallel == "seeds":
        _train_oracles(config, dataset, rewards)  # in one program, before any seed's rows
    done = []
    # Development seeds first: zol_selected's settings are known once they are in.
    order = [s for s in config.seeds if s in ev.selection_seeds] + \
        [s for s in config.seeds if s not in ev.selection_seeds]
    for seed in order:
        key = jax.random.fold_in(jax.random.PRNGKey(ev.key), seed)  # every method of the seed
        if fb_family:
            _evaluate_fb(config, rollouts, dataset, rewards, goals, seed, key)
        if "td3" in ev.chosen:
            _evaluate_oracle(config, rollouts, dataset, rewards, seed, key)
        if "navigator" in ev.chosen:
            rollouts.add(seed, "navigator", rollouts.run("navigator", navigator_policy(), None,
                                                         jnp.asarray(goals), rollouts.task_ids,
                                                         key))
        if "random" in ev.chosen:
            out = rollouts.run("random", random_policy(domain.action_dim), None,
                               jnp.zeros(num_tasks), rollouts.task_ids, key)
            rollouts.add(seed, "random", out)
        done.append(seed)
        rows = _write_results(config, rollouts, dataset.manifest, done)
    return rows


def _write_results(config: ExperimentConfig, rollouts: Rollouts, manifest: Manifest,
                   done: list[int]) -> list[Row]:
    """WORKDIR/eval/results.json with the rows of the seeds evaluated so far (written after each
    seed, so an evaluation cut short keeps what it finished: "complete" is false until every
    seed is in); the ZOL selection is made on those seeds."""
    workdir, ev = Workdir.of(config), config.eval
    rows, selection = rollouts.rows, None
    complete = len(done) == len(config.seeds)
    dev = ev.selection_seeds
    if zol_arms(ev) and (not dev or set(dev) <= set(done)):
        selection = select_settings(rows, ev.grid(), rollouts.tasks, dev)
        rows = add_zol_arms(rows, selection, zol_arms(ev))
        for task, chosen in selection.items() if complete else ():
            print(f"[evaluate] {task}: zol_selected uses grid setting {chosen.index} "
                  f"{chosen.setting} " + (
                      f"(return {chosen.dev_seed_return:.2f} on development seeds {list(dev)})"
                      if dev else f"(held-out score {chosen.held_out_score:.2f} on the other "
                      "tasks)"), flush=True)
    os.makedirs(workdir.eval, exist_ok=True)
    result = {"domain": rollouts.domain.name, "dataset": workdir.dataset, "collection":
              manifest.collection, "eval": to_dict(ev), "seeds": list(done),
              "seeds_planned": list(config.seeds), "complete": complete,
              "selection_seeds": list(dev),
              "oracle_steps": config.oracle.train.num_steps, "fb_steps": config.train.num_steps,
              "fb_steps_trained": rollouts.fb_steps,
              "rewarded_in_inference_sample": rollouts.rewarded,
              "selection": None if selection is None else {t: c.to_json()
                                                           for t, c in selection.items()},
              "grid": [to_dict(c) for c in ev.grid()],
              "rows": [row.to_json() for row in rows]}
    tmp = workdir.results + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, workdir.results)
    return rows
