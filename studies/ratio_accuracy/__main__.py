"""How accurate is the density ratio an FB model gives for free?

  python -m studies.ratio_accuracy --config=experiments/configs/ratio_accuracy.py

For each finite MDP of the config: train FB (control, or resume it), take 50 policies pi_z from goal
and reward prompts, and compare with the exact ratio d^pi / rho: the FB ratio for each rho0 source
and positivity transform, and DualDICE trained per policy at several settings. Writes
WORKDIR/ratio_accuracy.json, WORKDIR/ratio_accuracy.md and WORKDIR/ratio_accuracy.png.
"""

import json
import os

import numpy as np
from absl import app, logging
from ml_collections import config_flags

from fbjax.configs import from_dict
from fbjax.dice import DualDICEConfig
from fbjax.pipeline.config import TabularConfig
from fbjax.pipeline.tabular import train_phase
from fbjax.tabular import ratio_eval
from fbjax.tabular.exact import occupancy

_CONFIG = config_flags.DEFINE_config_file(
    "config", os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs",
                           "ratio_accuracy.py"), "Experiment config file.")


def _mean(rows, key):
    return float(np.mean([r[key] for r in rows]))


def _median(rows, key):
    return float(np.median([r[key] for r in rows]))


def evaluate_mdp(name, mdp_config, config, workdir):
    mdp_config = from_dict(TabularConfig, mdp_config, f"config.mdps.{name}")
    mdp, data, agent, state = train_phase(mdp_config, "control", os.path.join(workdir, name))
    zs, rewards, tables, kinds = ratio_eval.prompt_policies(
        agent, state.params, mdp, data, config["num_goal_prompts"],
        config["num_reward_prompts"], config["seed"])
    out = {"mdp": mdp.name, "num_states": mdp.num_states, "num_policies": len(kinds),
           "distinct_policies": len({t.tobytes() for t in tables}), "fb": {}, "dice": {}}
    for source in config["sources"]:
        for transform in config["transforms"]:
            res = ratio_eval.fb_ratio_metrics(
                agent, state.params, mdp, data, zs, rewards, tables, source=source,
                transform=transform, beta=config["beta"], num_samples=config["num_samples"],
                num_starts=config["num_starts"], seed=config["seed"])
            out["fb"][f"{source}/{transform}"] = {
                "tv": _mean(res["rows"], "tv"), "ope_error": _mean(res["rows"], "ope_error"),
                "ope_error_median": _median(res["rows"], "ope_error"),
                "fb_value_error": _mean(res["rows"], "fb_value_error"),
                "fb_value_error_median": _median(res["rows"], "fb_value_error"),
                "tv_exact_on_sample": _mean(res["rows"], "tv_exact_on_sample")}
            print(f"[{name}] FB {source}/{transform}: {out['fb'][f'{source}/{transform}']}",
                  flush=True)
            if (source, transform) == ("init", "linear"):
                fb_init = res
    dice_runs = {}
    for lr, steps in config["dice_settings"]:
        dice_config = DualDICEConfig(lr=lr, steps=steps, batch_size=config["dice_batch_size"])
        res = ratio_eval.dice_metrics(mdp, data, rewards, tables, agent.config.discount,
                                      dice_config, config["seed"])
        key = f"lr={lr:g},steps={steps}"
        dice_runs[key] = res
        out["dice"][key] = {
            "tv": _mean(res["rows"], "tv"), "ope_error": _mean(res["rows"], "ope_error"),
            "ope_error_median": _median(res["rows"], "ope_error"),
            "train_seconds_one_policy": res["train_seconds_one_policy"],
            "train_seconds_per_policy_batched":
                res["train_seconds_all_policies_batched"] / len(kinds)}
        print(f"[{name}] DualDICE {key}: {out['dice'][key]}", flush=True)
    best = min(out["dice"], key=lambda k: out["dice"][k]["tv"])
    out["dice_best"] = best
    return out, (mdp, data, tables, fb_init, dice_runs[best])


def _markdown(results) -> str:
    lines = ["| MDP | estimator | mean TV(w·rho, d^pi) | OPE rel. error, mean / median | "
             "per-policy training (s) |", "|---|---|---|---|---|"]
    for name, res in results.items():
        for key, row in res["fb"].items():
            lines.append(f"| {name} | FB {key} | {row['tv']:.4f} | {row['ope_error']:.3f} / "
                         f"{row['ope_error_median']:.3f} | 0 |")
        fb_own = res["fb"]["init/linear"]
        own, own_median = fb_own["fb_value_error"], fb_own["fb_value_error_median"]
        lines.append(f"| {name} | FB's own value F·E[rB] (init) | – | "
                     f"{own:.3f} / {own_median:.3f} | 0 |")
        for key, row in res["dice"].items():
            star = " (best TV)" if key == res["dice_best"] else ""
            lines.append(f"| {name} | DualDICE {key}{star} | {row['tv']:.4f} | "
                         f"{row['ope_error']:.3f} / {row['ope_error_median']:.3f} | "
                         f"{row['train_seconds_one_policy']:.2f} |")
        floor = fb_own["tv_exact_on_sample"]
        lines.append(f"| {name} | exact ratio on the same sample (floor) | {floor:.4f} | – | – |")
    return "\n".join(lines) + "\n"


def _figure(path, mdp, data, tables, fb_res, dice_res, gamma):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rho0 = ratio_eval.start_distribution(data, mdp.num_states, "init")
    rho = data.next_state_distribution(mdp.num_states)
    exact, fb, dice = [], [], []
    for p, table in enumerate(tables):
        d = occupancy(mdp.transitions, table, rho0, gamma)
        exact.append(d / np.maximum(rho, 1e-12))
        w = np.zeros(mdp.num_states)
        w[fb_res["next_states"]] = fb_res["weights"][p]
        fb.append(w)
        counts = np.bincount(data.next_state, minlength=mdp.num_states)
        dice.append(np.bincount(data.next_state, weights=dice_res["zeta"][p],
                                minlength=mdp.num_states) / np.maximum(counts, 1))
    fig, ax = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
    for a, est, title in ((ax[0], fb, "FB (free, init, linear)"), (ax[1], dice, "DualDICE (best)")):
        a.scatter(np.ravel(exact), np.ravel(est), s=4, alpha=0.4)
        top = max(np.max(exact), 1.0)
        a.plot([0, top], [0, top], "k--", lw=1)
        a.set_xlabel("exact d^pi / rho")
        a.set_title(title)
    ax[0].set_ylabel("estimated ratio")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    config = json.loads(_CONFIG.value.to_json())
    workdir = os.path.abspath(config["workdir"])
    os.makedirs(workdir, exist_ok=True)
    results, first = {}, None
    for name, mdp_config in config["mdps"].items():
        results[name], plot_data = evaluate_mdp(name, mdp_config, config, workdir)
        first = first or (plot_data, mdp_config["fb"]["discount"])
    with open(os.path.join(workdir, "ratio_accuracy.json"), "w") as f:
        json.dump({"config": config, "results": results}, f, indent=2)
    table = _markdown(results)
    with open(os.path.join(workdir, "ratio_accuracy.md"), "w") as f:
        f.write(table)
    (mdp, data, tables, fb_res, dice_res), gamma = first
    _figure(os.path.join(workdir, "ratio_accuracy.png"), mdp, data, tables, fb_res, dice_res,
            gamma)
    print(table)
    print(f"written to {workdir}/ratio_accuracy.{{json,md,png}}")


if __name__ == "__main__":
    app.run(main)
