"""The MJX pipeline behind the binaries: collect, train FB per seed, evaluate every method on
every task, write the report. Every function takes the typed `ExperimentConfig` and works under its
`workdir`:

    WORKDIR/dataset            the collected dataset          (experiments.collect)
    WORKDIR/fb/seed_S          FB checkpoints + config.json   (experiments.train)
    WORKDIR/oracle/seed_S      TD3 oracle checkpoints         (experiments.evaluate)
    WORKDIR/eval/results.json  one row per seed x task x method (experiments.evaluate)
    WORKDIR/report/            results.md, bars.png, scatter.png (experiments.report)
"""

import json
import os
import shutil
import time

import jax
import jax.numpy as jnp
import numpy as np

import fbjax.envs as envs
from fbjax.baselines.td3 import TD3
from fbjax.configs import from_dict, to_dict
from fbjax.data.collect import collect
from fbjax.data.relabel import relabel
from fbjax.data.store import append_dataset, load_dataset, read_manifest, save_dataset
from fbjax.eval.evaluator import actor_policy, fb_policy, make_evaluator, random_policy
from fbjax.eval.oracle import train_oracles
from fbjax.eval.report import aggregate, figures, markdown_table
from fbjax.eval.zero_shot import FB_METHODS, infer_latents, inference_data, off_policy_estimates
from fbjax.fb.learner import FBAgent
from fbjax.pipeline.config import EvalConfig, ExperimentConfig
from fbjax.train.run import is_sharded, load_fb, train_run
from fbjax.types import Transition


def paths(config: ExperimentConfig) -> dict[str, str]:
    root = os.path.abspath(config.workdir)
    return {name: os.path.join(root, name) if name != "root" else root
            for name in ("root", "dataset", "fb", "oracle", "eval", "report")}


def collect_data(config: ExperimentConfig) -> str:
    """Collects WORKDIR/dataset unless an identical one exists; returns its path."""
    domain = envs.make(config.domain)
    settings = config.collect
    description = {"domain": domain.name, **to_dict(settings)}
    path = paths(config)["dataset"]
    if os.path.exists(path):
        manifest = read_manifest(path)
        if manifest["collection"] == description and manifest["seed"] == config.seed:
            print(f"dataset {path} already holds this collection "
                  f"({sum(s['rows'] for s in manifest['shards'])} rows); keeping it", flush=True)
            return path
        raise FileExistsError(f"collect: {path} holds a dataset made with other settings "
                              f"({manifest['collection']}, seed {manifest['seed']}); "
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
            save_dataset(partial, arrays, env=domain.name, tasks=list(domain.task_names),
                         collection=description, seed=config.seed)

    collect(domain, settings, config.seed, sink)
    os.replace(partial, path)
    print(f"dataset written to {path}", flush=True)
    return path


def to_transitions(arrays: dict[str, np.ndarray]) -> Transition:
    """The stored fields FB trains on, as float32 host arrays."""
    return Transition(**{k: np.asarray(arrays[k], np.float32)
                         for k in ("obs", "action", "next_obs", "terminal", "start")})


def _dataset_description(config: ExperimentConfig, arrays, manifest) -> dict:
    return {"dataset": paths(config)["dataset"], "domain": manifest["env"],
            "tasks": manifest["tasks"], "obs_dim": int(arrays["obs"].shape[1]),
            "action_dim": int(arrays["action"].shape[1])}


def train_fb(config: ExperimentConfig, seed: int, arrays=None, manifest=None):
    """Trains (or resumes) FB for one seed in WORKDIR/fb/seed_S; returns (agent, state)."""
    if arrays is None:
        arrays, manifest = load_dataset(paths(config)["dataset"])
    description = {"fb": to_dict(config.fb), **_dataset_description(config, arrays, manifest)}
    agent = FBAgent(config.fb, description["obs_dim"], description["action_dim"])
    run_dir = os.path.join(paths(config)["fb"], f"seed_{seed}")
    layout = "sharded" if is_sharded(config.train) else "single"
    print(f"[train] FB seed {seed}: {config.train.num_steps} steps -> {run_dir} ({layout}, "
          f"{jax.device_count()} device(s), {jax.process_count()} process(es))", flush=True)
    state = train_run(agent, to_transitions(arrays), run_dir, description, config.train, seed,
                      label="[train] ")
    return agent, state


def train_all(config: ExperimentConfig) -> dict[int, object]:
    """FB for every seed of the config; returns the final state per seed."""
    p = paths(config)
    if not os.path.exists(p["dataset"]):
        raise FileNotFoundError(f"train: no dataset at {p['dataset']}; run python -m "
                                "experiments.collect with the same --config.workdir first")
    arrays, manifest = load_dataset(p["dataset"])
    return {seed: train_fb(config, seed, arrays, manifest)[1] for seed in config.seeds}


class _Rollouts:
    """The compiled evaluators (one per kind of policy, reused across seeds) and the result rows
    they produce, one per (seed, task, method)."""

    def __init__(self, domain, episodes: int, length: int | None, discount: float):
        self.domain, self.episodes, self.length, self.discount = domain, episodes, length, discount
        self.compiled, self.rows = {}, []

    def run(self, kind, policy, shared, per_prompt, task_ids, key) -> dict[str, np.ndarray]:
        if kind not in self.compiled:
            self.compiled[kind] = make_evaluator(self.domain, policy, self.episodes, self.length,
                                                 self.discount)
        start = time.perf_counter()
        out = jax.tree.map(np.asarray, self.compiled[kind](shared, per_prompt, task_ids, key))
        print(f"[evaluate] {kind}: {len(task_ids)} prompts x {self.episodes} episodes in "
              f"{time.perf_counter() - start:.1f}s (compile included on first use)", flush=True)
        return out

    def add(self, seed, method, out, offset=0, extra=None) -> None:
        for t, task in enumerate(self.domain.task_names):
            row = {"seed": seed, "task": task, "method": method,
                   "returns": out["return"][offset + t].tolist(),
                   "discounted": out["discounted"][offset + t].tolist()}
            if extra is not None:
                row.update({k: float(v[t]) for k, v in extra.items()})
            self.rows.append(row)


def _evaluate_fb(config: ExperimentConfig, rollouts: _Rollouts, arrays, rewards, seed,
                 fb_methods, key) -> None:
    ev, task_ids = config.eval, jnp.arange(len(rollouts.domain.task_names))
    agent, state, _ = load_fb(os.path.join(paths(config)["fb"], f"seed_{seed}"))
    data = inference_data(arrays, rewards, ev.inference_samples, ev.num_starts, seed)
    zs = infer_latents(agent, state.params, data, ev.zol, ev.rwr_iterations)
    stacked = jnp.concatenate([zs[m] for m in fb_methods])
    out = rollouts.run("fb", fb_policy(agent.networks), state.params, stacked,
                       jnp.tile(task_ids, len(fb_methods)), key)
    for i, method in enumerate(fb_methods):
        ope = off_policy_estimates(agent, state.params, data, zs[method])
        rollouts.add(seed, method, out, i * len(task_ids),
                     {"ope_ratio": ope["ratio"], "ope_fb_value": ope["fb_value"]})


def train_oracle(config: ExperimentConfig, arrays, rewards, manifest, seed: int):
    """Trains (or resumes) the TD3 oracles of every task for one seed in WORKDIR/oracle/seed_S."""
    td3 = TD3(config.oracle.td3, int(arrays["obs"].shape[1]), int(arrays["action"].shape[1]))
    run_dir = os.path.join(paths(config)["oracle"], f"seed_{seed}")
    print(f"[oracle] TD3 seed {seed}: {config.oracle.train.num_steps} steps for each of "
          f"{rewards.shape[1]} tasks at once -> {run_dir}", flush=True)
    state = train_oracles(td3, arrays, rewards, run_dir, config.oracle.train, seed,
                          _dataset_description(config, arrays, manifest))
    return td3, state


def _evaluate_oracle(config: ExperimentConfig, rollouts: _Rollouts, arrays, rewards, manifest,
                     seed, key) -> None:
    td3, td3_state = train_oracle(config, arrays, rewards, manifest, seed)
    out = rollouts.run("td3", actor_policy(td3.act), None, td3_state.actor,
                       jnp.arange(len(rollouts.domain.task_names)), key)
    rollouts.add(seed, "td3", out)


def evaluate_all(config: ExperimentConfig) -> list[dict]:
    """Every chosen method x every task x every seed; rows written to WORKDIR/eval/results.json."""
    p, ev = paths(config), config.eval
    domain = envs.make(config.domain)
    arrays, manifest = load_dataset(p["dataset"])
    print(f"[evaluate] relabelling {len(arrays['obs']):,} transitions for "
          f"{len(domain.task_names)} tasks", flush=True)
    rewards = np.asarray(relabel(domain, arrays["next_physics"], arrays["action"]))
    rollouts = _Rollouts(domain, ev.num_episodes, ev.episode_length or None, config.fb.discount)
    fb_methods = [m for m in ev.chosen if m in FB_METHODS]
    num_tasks = len(domain.task_names)
    for seed in config.seeds:
        key = jax.random.PRNGKey(10_000 + seed)
        if fb_methods:
            _evaluate_fb(config, rollouts, arrays, rewards, seed, fb_methods,
                         jax.random.fold_in(key, 0))
        if "td3" in ev.chosen:
            _evaluate_oracle(config, rollouts, arrays, rewards, manifest, seed,
                             jax.random.fold_in(key, 1))
        if "random" in ev.chosen:
            out = rollouts.run("random", random_policy(domain.action_dim), None,
                               jnp.zeros(num_tasks), jnp.arange(num_tasks),
                               jax.random.fold_in(key, 2))
            rollouts.add(seed, "random", out)
    os.makedirs(p["eval"], exist_ok=True)
    result = {"domain": domain.name, "dataset": p["dataset"], "collection":
              manifest["collection"], "eval": to_dict(ev), "seeds": list(config.seeds),
              "rows": rollouts.rows}
    tmp = os.path.join(p["eval"], "results.json.tmp")
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, os.path.join(p["eval"], "results.json"))
    return rollouts.rows


def inference_note(ev: EvalConfig) -> str:
    return ("No test leakage: every inference setting is fixed in the config before evaluation "
            f"and none is chosen on a test return: reward inference on "
            f"{ev.inference_samples} dataset samples; ZOL search with {to_dict(ev.zol)}; "
            f"ratio-weighted regression with {ev.rwr_iterations} iterations (linear ratio, "
            f"clip 20); {ev.num_starts} dataset episode starts as rho0.")


def report(config: ExperimentConfig) -> str:
    p = paths(config)
    results_path = os.path.join(p["eval"], "results.json")
    if not os.path.exists(results_path):
        raise FileNotFoundError(f"report: no {results_path}; run python -m experiments.evaluate "
                                "first")
    with open(results_path) as f:
        result = json.load(f)
    summary = aggregate(result["rows"])
    note = inference_note(from_dict(EvalConfig, result["eval"], f"{results_path}: eval"))
    table = (f"# {result['domain']}: zero-shot FB vs TD3 oracle vs random\n\n"
             f"Seeds {result['seeds']}; dataset {result['collection']['policy']} "
             f"({result['collection']['num_envs']} envs x {result['collection']['num_episodes']}"
             f" episodes).\n\n" + markdown_table(summary, note))
    os.makedirs(p["report"], exist_ok=True)
    with open(os.path.join(p["report"], "results.md"), "w") as f:
        f.write(table + "\n")
    figures(summary, p["report"])
    return table
