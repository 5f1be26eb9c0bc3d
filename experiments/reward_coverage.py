"""How sparse each task's reward is in a config's dataset, and in the sample reward inference sees.

  python -m experiments.reward_coverage --config=experiments/configs/point_mass_maze.py
  # -> experiments/results/reward_coverage_point_mass_maze.{json,md}

Reward inference (z_r = mean r B(s') over eval.inference_samples transitions) only sees a task
through the transitions it rewards; a task with none in the sample gets a prompt that says
nothing about it. For every task of the config's domain (and, on the maze, the development goals
of experiments/learning_curve.py), this prints the share of the dataset's transitions with
reward >= --at_least (0.1 by default: for the point-mass reach tasks, the mass within about 3 cm
of the target, the Gaussian tolerance's margin), and how many of them are in the inference sample
each of the config's seeds draws (`fbjax.eval.zero_shot.inference_data`, as the evaluation does).
A data statistic: no policy is run and no return is looked at.
"""

import json
import os
import sys

import numpy as np
from absl import app, flags

import fbjax.envs as envs
from experiments.common import read_config
from experiments.dev_tasks import DOMAINS as DEV_DOMAINS
from experiments.dev_tasks import REWARDED, coverage_table, dev_domain, rewarded
from experiments.provenance import provenance
from fbjax.data.relabel import relabel
from fbjax.eval.zero_shot import inference_data
from fbjax.pipeline.mjx import collect_data, load_checked

_AT_LEAST = flags.DEFINE_float("at_least", REWARDED, "A transition is rewarded when its reward is "
                               ">= this.")
_OUT = flags.DEFINE_string("out", None, "Output stem (default experiments/results/"
                           "reward_coverage_DOMAIN).")


def main(argv):
    del argv
    config = read_config()
    # Recorded before the run starts: the commit and working tree that the run executes.
    made_by = provenance(" ".join(["python -m experiments.reward_coverage", *sys.argv[1:]]))
    collect_data(config)
    arrays, _ = load_checked(config)
    domains = {"reported": envs.make(config.domain)}
    if config.domain in DEV_DOMAINS:
        domains["development"] = dev_domain(domains["reported"])
    rows = []
    for kind, domain in domains.items():
        rewards = np.asarray(relabel(domain, arrays["next_physics"], arrays["action"]))
        per_seed = {seed: rewarded(rewards, inference_data(
            arrays, rewards, config.eval.inference_samples, config.eval.num_starts,
            seed).rewards, _AT_LEAST.value) for seed in config.seeds}
        for t, task in enumerate(domain.task_names):
            counts = [per_seed[s]["rewarded_in_inference_sample"][t] for s in config.seeds]
            rows.append({"kind": kind, "task": task,
                         "dataset_share": per_seed[config.seeds[0]]["dataset_share"][t],
                         "in_inference_sample": counts})
            print(f"{kind:11s} {task:20s} {rows[-1]['dataset_share']:.4%} of the dataset, "
                  f"{counts} of {config.eval.inference_samples} inference samples "
                  f"(seeds {list(config.seeds)})", flush=True)
    stem = _OUT.value or os.path.join("experiments", "results",
                                      f"reward_coverage_{config.domain}")
    result = {"domain": config.domain, "dataset_rows": int(len(arrays["obs"])),
              "reward_at_least": _AT_LEAST.value,
              "inference_samples": config.eval.inference_samples, "seeds": list(config.seeds),
              "rows": rows, "provenance": made_by}
    os.makedirs(os.path.dirname(stem) or ".", exist_ok=True)
    with open(stem + ".json", "w") as f:
        json.dump(result, f, indent=1)
    with open(stem + ".md", "w") as f:
        f.write(coverage_table(result))
    print(f"wrote {stem}.json and {stem}.md", flush=True)


if __name__ == "__main__":
    app.run(main)
