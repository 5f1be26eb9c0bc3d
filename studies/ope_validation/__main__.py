"""OPE validation study: does the free ratio rank, pick and calibrate many policies correctly?

  python -m studies.ope_validation --config=experiments/configs/point_mass.py  # open arena
  python -m studies.ope_validation --config=experiments/configs/walker.py   # accelerator

For every training seed of --config it builds a pool of FB policies (task prompts, random rewards
in the span of B, two-task mixtures, goals, task prompts perturbed by 5/15/30 degrees, ZOL outputs
of the config's grid), rolls each out for --episodes episodes (every policy from the same start
states) scored on every task reward, and compares each estimator of the discounted return (FB's
own value, the raw free ratio, and each transform / normalisation / clip) with the truth:
Spearman per task reward, regret of the argmax, calibration slope. On point mass it also measures
the total-variation distance between w rho and the Monte Carlo occupancy on a position grid.
Fitted Q evaluation on a stratified subset (--fqe_policies) is the baseline.

Uses the dataset and FB runs in --config.workdir (collects and trains what is missing, as the
pipeline does). Writes ope_validation.{json,md} and PNG figures to --out
(default WORKDIR/ope_validation); the JSON records num_policies, the Spearman figures and the
provenance (commit, command, device, versions).
"""

import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import flags

import fbjax.envs as envs
from experiments.common import read_config, run
from fbjax.agent import Vmapped, train_steps
from fbjax.baselines.fqe import FQE, FQEConfig
from fbjax.data.relabel import relabel
from fbjax.eval.evaluator import fb_policy, make_evaluator
from fbjax.eval.ope_study import (
    VARIANTS,
    PoolConfig,
    estimates,
    noise_ceiling,
    policy_pool,
    rank_metrics,
    total_variation,
)
from fbjax.eval.zero_shot import inference_data
from fbjax.pipeline.mjx import collect_data, load_checked, train_all
from fbjax.pipeline.workdir import Workdir
from fbjax.provenance import provenance
from fbjax.train.run import load_fb
from fbjax.types import Labelled

_EPISODES = flags.DEFINE_integer("episodes", 20, "Episodes per policy (shared start states).")
_FQE_POLICIES = flags.DEFINE_integer("fqe_policies", 24, "Policies evaluated by FQE (0: none).")
_FQE_STEPS = flags.DEFINE_integer("fqe_steps", 20_000, "FQE updates.")
# Polyak 0.02 x 20k updates ~ 400 target refreshes: enough backups for the gamma = 0.99 horizon
# (0.99^400 ~ 0.02); 0.005 x 5k (~25 refreshes) left FQE's values far below the returns.
_FQE_TAU = flags.DEFINE_float("fqe_tau", 0.02, "FQE target-network Polyak rate.")
_FQE_SEEDS = flags.DEFINE_integer("fqe_seeds", -1, "Run FQE on the first N training seeds "
                                  "(-1: every seed).")
_CELLS = flags.DEFINE_integer("cells", 12, "Point mass: position grid cells per axis (TV).")
_OUT = flags.DEFINE_string("out", None, "Output folder (default WORKDIR/ope_validation).")

ARENA = 0.3  # point mass: walls at +-0.3 m
ESTIMATORS = ("fb_value", *VARIANTS)
# A reward's true returns are "measured" when their split-half reliability over the pool reaches
# this (ceiling sqrt(0.5) = 0.71): below it the truth's own ranking is mostly episode noise.
RELIABLE = 0.5


def _cell_fn(cells: int):
    def cell(obs):
        ij = jnp.clip(jnp.floor((obs[..., :2] + ARENA) / (2 * ARENA) * cells), 0, cells - 1)
        return (ij[..., 0] * cells + ij[..., 1]).astype(jnp.int32)
    return cell


def _fqe_subset(strata: list[str], size: int) -> list[int]:
    """A stratified subset: round-robin over strata in pool order."""
    by = {}
    for i, s in enumerate(strata):
        by.setdefault(s, []).append(i)
    chosen, k = [], 0
    while len(chosen) < min(size, len(strata)):
        for members in by.values():
            if k < len(members) and len(chosen) < size:
                chosen.append(members[k])
        k += 1
    return sorted(chosen)


def _fqe(agent, params, loaded, rewards, data, zs, discount, steps, seed):
    """FQE of policies zs (C, d) on every task reward: (C, T) estimates."""
    nets = agent.networks
    fqe = FQE(FQEConfig(discount=discount, tau=_FQE_TAU.value), loaded.obs.shape[1],
              loaded.action.shape[1], rewards.shape[1])
    copies = Vmapped(fqe, len(zs), per_copy=("next_action",))
    next_obs = jnp.asarray(loaded.next_obs, jnp.float32)
    act = jax.jit(lambda z: nets.actor_mean(params.actor, next_obs,
                                            jnp.broadcast_to(z, (next_obs.shape[0], z.shape[-1]))))
    dataset = Labelled(obs=jnp.asarray(loaded.obs, jnp.float32),
                       action=jnp.asarray(loaded.action, jnp.float32), next_obs=next_obs,
                       terminal=jnp.asarray(loaded.terminal, jnp.float32),
                       reward=jnp.asarray(rewards, jnp.float32),
                       next_action=jnp.stack([act(z) for z in zs], -1))
    state = copies.init(jax.random.PRNGKey(seed))
    # The dataset is an argument, not a constant folded into the compiled program.
    run = jax.jit(lambda s, d, k: train_steps(copies, s, d, k, 1000))
    key = jax.random.PRNGKey(seed + 1)
    start = time.perf_counter()
    for done in range(1000, steps + 1, 1000):
        state, metrics = run(state, dataset, jax.random.fold_in(key, done))
        print(f"[fqe] {done}/{steps} updates of {len(zs)} policies  "
              f"loss {float(metrics['fqe_loss'].mean()):.4g}  "
              f"{done / (time.perf_counter() - start):.0f} steps/s", flush=True)

    def value(p, z):
        action = nets.actor_mean(params.actor, data.start_obs,
                                 jnp.broadcast_to(z, (data.start_obs.shape[0], z.shape[-1])))
        return fqe.value(p, data.start_obs, action)

    return np.asarray(jax.vmap(value)(state.params, jnp.asarray(zs)))


def _metrics(est: dict, true: np.ndarray, idx=None) -> dict:
    """Per estimator: per task-reward metrics and their means."""
    idx = slice(None) if idx is None else idx
    out = {}
    for name, values in est.items():
        per_task = [rank_metrics(np.asarray(values)[idx, t], true[idx, t])
                    for t in range(true.shape[1])]
        out[name] = {"per_task": per_task,
                     **{f"mean_{k}": float(np.nanmean([m[k] for m in per_task]))
                        for k in per_task[0]}}
    return out


def study_seed(config, seed, loaded, rewards, evaluator, cell_fn, num_cells, state, agent,
               run_fqe):
    ev = config.eval
    data = inference_data(loaded, rewards, ev.inference_samples, ev.num_starts, seed)
    began = time.perf_counter()
    zs, strata, labels = policy_pool(agent, state.params, data, ev.grid(), PoolConfig(),
                                     jax.random.PRNGKey(1000 + seed))
    print(f"[ope] seed {seed}: pool of {len(zs)} policies "
          f"({', '.join(f'{s} {strata.count(s)}' for s in dict.fromkeys(strata))}) in "
          f"{time.perf_counter() - began:.0f}s", flush=True)
    began = time.perf_counter()
    key = jax.random.fold_in(jax.random.PRNGKey(ev.key + 1), seed)
    out = jax.tree.map(np.asarray, evaluator(state.params, jnp.asarray(zs),
                                             jnp.zeros(len(zs), jnp.int32), key))
    true = out["task_discounted"].mean(axis=1)  # (P, T)
    ceiling = {k: v.tolist() for k, v in noise_ceiling(out["task_discounted"]).items()}
    print(f"[ope] seed {seed}: {len(zs)} policies x {_EPISODES.value} episodes rolled out in "
          f"{time.perf_counter() - began:.0f}s", flush=True)
    positions = None if cell_fn is None else cell_fn(data.next_obs)
    est = jax.tree.map(np.asarray, estimates(agent, state.params, data, jnp.asarray(zs),
                                             positions, num_cells))
    scores = {k: v for k, v in est.items() if not k.startswith("hist/")}
    result = {"seed": seed, "num_policies": len(zs),
              "strata": {s: strata.count(s) for s in dict.fromkeys(strata)},
              "fb_value_equals_raw_ratio_max_abs": float(np.abs(est["fb_value"]
                                                                - est["raw"]).max()),
              "metrics": _metrics(scores, true),
              "noise_ceiling": ceiling,
              "pooled_spearman": {name: _pooled(v, true) for name, v in scores.items()},
              "by_stratum": {s: {name: m["mean_spearman"] for name, m in _metrics(
                  scores, true, np.array([x == s for x in strata])).items()}
                  for s in dict.fromkeys(strata)},
              "policies": [{"label": lab, "stratum": s, "true": true[i].tolist(),
                            **{k: np.asarray(v[i]).tolist() for k, v in scores.items()}}
                           for i, (lab, s) in enumerate(zip(labels, strata, strict=True))]}
    if cell_fn is not None:
        result["tv_median"] = {name.split("/", 1)[1]: float(np.median(total_variation(
            est[name], out["occupancy"]))) for name in est if name.startswith("hist/")}
    if run_fqe and _FQE_POLICIES.value > 0:
        subset = _fqe_subset(strata, _FQE_POLICIES.value)
        began = time.perf_counter()
        fqe = _fqe(agent, state.params, loaded, rewards, data, zs[subset],
                   agent.config.discount, _FQE_STEPS.value, seed)
        sub_scores = {k: v[subset] for k, v in scores.items()}
        result["fqe"] = {"policies": [labels[i] for i in subset],
                         "steps": _FQE_STEPS.value, "tau": _FQE_TAU.value,
                         "seconds": time.perf_counter() - began,
                         "metrics": _metrics({"fqe": fqe, **sub_scores}, true[subset])}
    return result


def _pooled(estimate, true) -> float:
    """Spearman over every (policy, reward) pair at once: mostly the rewards' scales."""
    from scipy.stats import spearmanr

    return float(spearmanr(np.ravel(estimate), np.ravel(true)).statistic)


def _reliable_mean(results: list[dict], name: str, key: str = "spearman") -> float:
    """Mean of a per-reward metric over the (seed, reward) pairs whose truth is measured
    (split-half reliability >= RELIABLE); NaN when none is."""
    vals = [m[key] for r in results
            for m, rel in zip(r["metrics"][name]["per_task"], r["noise_ceiling"]["reliability"],
                              strict=True) if np.isfinite(rel) and rel >= RELIABLE]
    return float(np.nanmean(vals)) if vals else float("nan")


def _summary(results: list[dict]) -> dict:
    names = list(results[0]["metrics"])
    mean = {n: {k: float(np.nanmean([r["metrics"][n][f"mean_{k}"] for r in results]))
                for k in ("spearman", "regret_frac", "calibration_slope")} for n in names}
    out = {"spearman_mean": {n: mean[n]["spearman"] for n in names},
           "spearman_reliable_mean": {n: _reliable_mean(results, n) for n in names},
           "regret_frac_reliable_mean": {n: _reliable_mean(results, n, "regret_frac")
                                         for n in names},
           "spearman_pooled_mean": {n: float(np.mean([r["pooled_spearman"][n] for r in results]))
                                    for n in names},
           "regret_frac_mean": {n: mean[n]["regret_frac"] for n in names},
           "calibration_slope_mean": {n: mean[n]["calibration_slope"] for n in names},
           "noise_ceiling_per_reward": np.nanmean([r["noise_ceiling"]["ceiling"] for r in results],
                                                  axis=0).tolist(),
           "reliability_per_reward": np.nanmean([r["noise_ceiling"]["reliability"]
                                                 for r in results], axis=0).tolist()}
    fqe = [r["fqe"] for r in results if "fqe" in r]
    if fqe:
        sub = list(fqe[0]["metrics"])
        out["fqe_subset"] = {n: {k: float(np.nanmean([f["metrics"][n][f"mean_{k}"] for f in fqe]))
                                 for k in ("spearman", "regret_frac", "calibration_slope")}
                             for n in sub}
    if "tv_median" in results[0]:
        out["tv_median"] = {n: float(np.mean([r["tv_median"][n] for r in results]))
                            for n in results[0]["tv_median"]}
    return out


def _ceiling_lines(report: dict) -> list[str]:
    """The noise ceiling per reward, with two estimators' Spearman beside it."""
    s = report["summary"]
    lines = ["", "**Noise ceiling per reward** (mean over seeds): the Spearman between the even "
             "and odd episodes' mean returns over the pool, its Spearman-Brown reliability for "
             "all episodes, and the ceiling sqrt(reliability), the most any estimator can "
             "expect; next to it two estimators' Spearman on that reward.", "",
             "| reward | split-half | reliability | ceiling | linear_clip20 | fb_value |",
             "|---|---|---|---|---|---|"]
    for t, task in enumerate(report["tasks"]):
        split = np.nanmean([r["noise_ceiling"]["split_half"][t] for r in report["per_seed"]])
        per = {n: np.nanmean([r["metrics"][n]["per_task"][t]["spearman"]
                              for r in report["per_seed"]]) for n in ("linear_clip20",
                                                                      "fb_value")}
        lines.append(f"| {task} | {split:.2f} | {s['reliability_per_reward'][t]:.2f} | "
                     f"{s['noise_ceiling_per_reward'][t]:.2f} | {per['linear_clip20']:.2f} | "
                     f"{per['fb_value']:.2f} |")
    return lines


def _markdown(report: dict) -> str:
    s = report["summary"]
    lines = [f"# OPE validation: {report['domain']}", "",
             f"Seeds {report['seeds']}; {report['num_policies']} policies per seed "
             f"({', '.join(f'{k} {v}' for k, v in report['strata'].items())}); "
             f"{report['episodes']} episodes per policy, every policy from the same start "
             "states, each scored on every task reward.", "",
             "**Headline: within each reward**, over the pool (Spearman; regret of picking the "
             "policy with the best estimate, as a fraction of the pool's true range), mean over "
             f"the (seed, reward) pairs whose truth is measured (split-half reliability >= "
             f"{RELIABLE:g}, below), then over all of them; the Spearman pooled over every "
             "(policy, reward) pair, which mostly ranks the rewards' scales, only beside it.", "",
             "| estimator | Spearman (measured) | regret (measured) | Spearman (all) | "
             "regret (all) | calibration slope | pooled Spearman |", "|---" * 7 + "|"]
    for n in s["spearman_mean"]:
        lines.append(f"| {n} | {s['spearman_reliable_mean'][n]:.3f} | "
                     f"{s['regret_frac_reliable_mean'][n]:.3f} | {s['spearman_mean'][n]:.3f} | "
                     f"{s['regret_frac_mean'][n]:.3f} | {s['calibration_slope_mean'][n]:.3f} | "
                     f"{s['spearman_pooled_mean'][n]:.3f} |")
    lines += _ceiling_lines(report)
    lines += ["", f"FB's own value and the raw (untransformed, unclipped) ratio estimate "
              f"coincide, as SPEC section 5 says: largest difference "
              f"{max(r['fb_value_equals_raw_ratio_max_abs'] for r in report['per_seed']):.2e}.",
              "", "Spearman by stratum (mean over task rewards and seeds):", "",
              "| stratum | " + " | ".join(ESTIMATORS) + " |",
              "|---" * (len(ESTIMATORS) + 1) + "|"]
    for stratum in report["strata"]:
        vals = [np.nanmean([r["by_stratum"][stratum][n] for r in report["per_seed"]])
                for n in ESTIMATORS]
        lines.append(f"| {stratum} | " + " | ".join(f"{v:.2f}" for v in vals) + " |")
    if "fqe_subset" in s:
        lines += ["", f"**FQE baseline** on a stratified subset of "
                  f"{len(report['per_seed'][0]['fqe']['policies'])} policies "
                  f"({report['per_seed'][0]['fqe']['steps']} updates, target Polyak rate "
                  f"{report['per_seed'][0]['fqe']['tau']}; seeds with FQE: "
                  f"{[r['seed'] for r in report['per_seed'] if 'fqe' in r]}), with the free-"
                  "ratio estimators on the same subset:", "",
                  "| estimator | Spearman | regret | calibration slope |", "|---|---|---|---|"]
        for n, m in s["fqe_subset"].items():
            lines.append(f"| {n} | {m['spearman']:.3f} | {m['regret_frac']:.3f} | "
                         f"{m['calibration_slope']:.3f} |")
    if "tv_median" in s:
        lines += ["", "**Occupancy**: median over the pool of the total-variation distance "
                  "between w·rho (the weighted dataset sample) and the policy's Monte Carlo "
                  "discounted occupancy on a position grid; `uniform` (w = 1, the data "
                  "distribution itself) is the no-information reference.", "",
                  "| weights | median TV |", "|---|---|"]
        for n, v in s["tv_median"].items():
            lines.append(f"| {n} | {v:.3f} |")
    return "\n".join(lines) + "\n"


def _figures(report: dict, out_dir: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = report["per_seed"][0]
    tasks = report["tasks"]
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.2 * len(tasks), 3.2), squeeze=False)
    strata = list(report["strata"])
    for t, (ax, task) in enumerate(zip(axes[0], tasks, strict=True)):
        for k, stratum in enumerate(strata):
            pts = [(p["linear_clip20"][t], p["true"][t]) for p in first["policies"]
                   if p["stratum"] == stratum]
            ax.scatter(*zip(*pts, strict=True), s=8, color=f"C{k}", label=stratum)
        ax.set_title(task, fontsize=9)
        ax.set_xlabel("J_hat (linear, clip 20)")
    axes[0, 0].set_ylabel("true discounted return")
    axes[0, 0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "scatter.png"), dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    names = list(report["summary"]["spearman_mean"])
    for i, name in enumerate(names):
        vals = [m["spearman"] for r in report["per_seed"] for m in r["metrics"][name]["per_task"]]
        ax.scatter(np.full(len(vals), i), vals, s=10, color=f"C{i}")
        ax.plot([i - 0.3, i + 0.3], [report["summary"]["spearman_mean"][name]] * 2, "k-")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel("Spearman per task reward and seed")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "spearman.png"), dpi=110)
    plt.close(fig)


def main(argv):
    del argv
    config = read_config()
    if _FQE_STEPS.value % 1000:
        raise ValueError(f"--fqe_steps={_FQE_STEPS.value}: FQE trains in chunks of 1000 updates; "
                         "give a multiple of 1000")
    command = "python -m studies.ope_validation " + " ".join(sys.argv[1:])
    record = provenance(command)
    out_dir = _OUT.value or os.path.join(Workdir.of(config).root, "ope_validation")
    os.makedirs(out_dir, exist_ok=True)
    domain = envs.make(config.domain)
    collect_data(config)
    train_all(config)  # trains (or finds) every seed's FB run
    loaded = load_checked(config)
    rewards = np.asarray(relabel(domain, loaded.next_physics, loaded.action))
    cell_fn, num_cells = (None, 0)
    if domain.name == "point_mass":
        cell_fn, num_cells = _cell_fn(_CELLS.value), _CELLS.value ** 2
    per_seed, evaluator = [], None
    for i, seed in enumerate(config.seeds):
        agent, state, _ = load_fb(Workdir.of(config).fb_run(seed))
        if evaluator is None:  # one compiled program for every seed (same networks, new params)
            evaluator = make_evaluator(domain, fb_policy(agent.networks), _EPISODES.value,
                                       config.eval.episode_length or None, config.fb.discount,
                                       cell_fn, num_cells)
        per_seed.append(study_seed(config, seed, loaded, rewards, evaluator, cell_fn, num_cells,
                                   state, agent, _FQE_SEEDS.value < 0 or i < _FQE_SEEDS.value))
        m = per_seed[-1]["metrics"]
        print(f"[ope] seed {seed}: mean Spearman " + ", ".join(
            f"{n} {m[n]['mean_spearman']:.2f}" for n in ESTIMATORS), flush=True)
    report = {"provenance": record, "domain": domain.name, "tasks": list(domain.task_names),
              "seeds": list(config.seeds), "episodes": _EPISODES.value,
              "num_policies": per_seed[0]["num_policies"], "strata": per_seed[0]["strata"],
              "estimators": {n: VARIANTS.get(n) for n in ESTIMATORS},
              "summary": _summary(per_seed), "per_seed": per_seed}
    with open(os.path.join(out_dir, "ope_validation.json"), "w") as f:
        json.dump(report, f, indent=1)
    table = _markdown(report)
    with open(os.path.join(out_dir, "ope_validation.md"), "w") as f:
        f.write(table)
    _figures(report, out_dir)
    print("\n" + table + f"\nwritten to {out_dir}", flush=True)


if __name__ == "__main__":
    run(main)
