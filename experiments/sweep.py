"""A sweep: config fields x values, every combination run, results gathered into one table.

  python -m experiments.sweep --sweep=eval.zol.lr=1e-4,3e-4,1e-3 \\
      --sweep=eval.zol.chi2_coef=0,0.005
  python -m experiments.sweep --sweep=fb.z_dim=16,32 --sweep=train.num_steps=10000

When every swept field is a numeric ZOL setting (eval.zol.lr, beta, clip, chi2_coef,
trust_coef), all combinations run as one compiled program per seed (`fbjax.zol.zol_grid`) on the
trained models of --config.workdir, rolled out on the same start states; otherwise each
combination runs the whole pipeline in WORKDIR/sweep/<i> (collect, train, evaluate, report). The
table (WORKDIR/sweep/sweep.md and sweep.json) has one row per combination: mean return per task
with its hierarchical-bootstrap 95% CI.

These are test returns. Choosing a setting from this table and reporting it on the same tasks is
test leakage (SPEC section 7); the pipeline's zol_selected arm chooses on the other tasks.
"""

import dataclasses
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
from absl import flags

import fbjax.envs as envs
from experiments.common import CONFIG, read_config, run
from fbjax.data.relabel import relabel
from fbjax.eval.evaluator import fb_policy, make_evaluator
from fbjax.eval.results import Results
from fbjax.eval.stats import hierarchical_bootstrap
from fbjax.eval.zero_shot import infer_latents, inference_data
from fbjax.pipeline.config import experiment_config
from fbjax.pipeline.mjx import collect_data, evaluate_all, load_checked, train_all
from fbjax.pipeline.mjx_report import report
from fbjax.pipeline.sweep import combinations, parse, with_values
from fbjax.pipeline.workdir import Workdir
from fbjax.train.run import load_fb
from fbjax.zol.search import NUMERIC

_SWEEP = flags.DEFINE_multi_string("sweep", [], "FIELD=V1,V2,... (repeat for more fields).")


def _batched(config, combos) -> list[dict]:
    """Numeric ZOL settings: one zol_grid program per seed, all combinations x tasks rolled out
    together from the same start states."""
    ev = config.eval
    grid = [dataclasses.replace(ev.zol, **{k.rsplit(".", 1)[1]: v for k, v in c.items()})
            for c in combos]
    domain = envs.make(config.domain)
    task_ids = ev.task_ids(domain.task_names)
    names = [domain.task_names[i] for i in task_ids]
    collect_data(config)
    train_all(config)
    dataset = load_checked(config)
    rewards = np.asarray(relabel(domain, dataset.next_physics, dataset.action))[:, task_ids]
    num_tasks = len(task_ids)
    labels = tuple(", ".join(f"{k}={v}" for k, v in c.items()) for c in combos)
    shape = (len(config.seeds), num_tasks, len(grid), ev.num_episodes)  # results.AXES order
    returns, discounted = np.zeros(shape), np.zeros(shape)
    evaluator = None
    for i, seed in enumerate(config.seeds):
        agent, state, _ = load_fb(Workdir.of(config).fb_run(seed))
        data = inference_data(dataset, rewards, ev.inference_samples, ev.num_starts, seed)
        zs = infer_latents(agent, state.params, data, grid, rwr_iterations=0).grid
        if evaluator is None:
            evaluator = make_evaluator(domain, fb_policy(agent.networks), ev.num_episodes,
                                       ev.episode_length or None, config.fb.discount)
        key = jax.random.fold_in(jax.random.PRNGKey(ev.key), seed)  # the pipeline's episodes
        out = evaluator(state.params, zs.reshape(-1, zs.shape[-1]),
                        jnp.tile(jnp.asarray(task_ids), len(grid)), key)
        for into, name in ((returns, "return"), (discounted, "discounted")):  # (G x T, E)
            into[i] = np.asarray(out[name]).reshape(len(grid), num_tasks, -1).swapaxes(0, 1)
        print(f"[sweep] seed {seed}: {len(grid)} settings x {num_tasks} tasks in one program",
              flush=True)
    results = Results(tuple(config.seeds), tuple(names), labels, returns, discounted,
                      np.ones(shape[:3], bool), {}, {})
    return [{"combo": c, "tasks": {
        task: hierarchical_bootstrap(results.cell(task, label).returns, ev.bootstrap_reps).as_dict()
        for task in names}} for c, label in zip(combos, labels, strict=True)]


def _separate(base: dict, combos, root: str) -> list[dict]:
    """Any other field: the whole pipeline per combination, in its own workdir."""
    out = []
    for i, combo in enumerate(combos):
        config = experiment_config(with_values(base, {**combo,
                                                      "workdir": os.path.join(root, str(i))}))
        print(f"[sweep] combination {i + 1}/{len(combos)}: {combo} -> {config.workdir}",
              flush=True)
        for stage in (collect_data, train_all, evaluate_all, report):
            stage(config)
        with open(os.path.join(Workdir.of(config).report, "summary.json")) as f:
            summary = json.load(f)
        out.append({"combo": combo, "workdir": config.workdir,
                    "tasks": {f"{r['task']} / {r['method']}": r["return"]
                              for r in summary["per_task"]}})
    return out


def table(results: list[dict]) -> str:
    columns = list(results[0]["tasks"])
    lines = ["Mean return [95% CI] per combination (test returns: do not choose a setting "
             "here for these tasks).", "",
             "| setting | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for r in results:
        cells = [f"{s['mean']:.1f} [{s['lo']:.1f}, {s['hi']:.1f}]"
                 for s in (r["tasks"][c] for c in columns)]
        setting = ", ".join(f"{k}={v}" for k, v in r["combo"].items())
        lines.append(f"| {setting} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv):
    del argv
    config = read_config()
    combos = combinations(parse(_SWEEP.value))
    base = CONFIG.value.to_dict()
    for combo in combos:  # every combination must make a valid config before anything runs
        experiment_config(with_values(base, combo))
    root = os.path.join(Workdir.of(config).root, "sweep")
    os.makedirs(root, exist_ok=True)
    numeric = {f"eval.zol.{k}" for k in NUMERIC}
    if all(name in numeric for name in combos[0]):
        results = _batched(config, combos)
    else:
        results = _separate(base, combos, root)
    with open(os.path.join(root, "sweep.json"), "w") as f:
        json.dump(results, f, indent=1)
    text = table(results)
    with open(os.path.join(root, "sweep.md"), "w") as f:
        f.write(text)
    print("\n" + text + f"\nwritten to {root}/sweep.md", flush=True)


if __name__ == "__main__":
    run(main)
