"""How sparse each task's reward is in a config's dataset, and in the sample reward inference sees.

  python -m studies.reward_coverage --config=experiments/configs/point_mass_maze.py
  # -> studies/reward_coverage/results/reward_coverage_point_mass_maze.{json,md}

Reward inference (z_r = mean r B(s') over eval.inference_samples transitions) only sees a task
through the transitions it rewards; a task with none in the sample gets a prompt that says
nothing about it. For every task of the config's domain (and, on the maze, the development goals
of studies/learning_curve/), this prints the share of the dataset's transitions that the
evaluation counts as rewarded (reward >= 0.1 x the task's largest in the data,
`fbjax.eval.zero_shot.rewarded_in_sample`: for the point-mass reach tasks, the mass within about
3 cm of the target, the Gaussian tolerance's margin), and how many of them are in the inference
sample each of the config's seeds draws (`inference_data`, as the evaluation does).
A data statistic: no policy is run and no return is looked at.
"""

import os
import sys

import numpy as np
from absl import flags

import fbjax.envs as envs
from experiments.common import read_config, run
from fbjax.data.relabel import relabel
from fbjax.eval.dev_tasks import DOMAINS as DEV_DOMAINS
from fbjax.eval.dev_tasks import CoverageResult, coverage_table, dev_domain
from fbjax.eval.zero_shot import REWARDED_RULE, inference_data, rewarded_in_sample
from fbjax.pipeline.mjx import collect_data, load_checked
from fbjax.provenance import provenance, write_results

_OUT = flags.DEFINE_string("out", None, "Output stem (default studies/reward_coverage/results/"
                           "reward_coverage_DOMAIN).")


def main(argv):
    del argv
    config = read_config()
    # Recorded before the run starts: the commit and working tree that the run executes.
    made_by = provenance(" ".join(["python -m studies.reward_coverage", *sys.argv[1:]]))
    collect_data(config)
    dataset = load_checked(config)
    domains = {"reported": envs.make(config.domain)}
    if config.domain in DEV_DOMAINS:
        domains["development"] = dev_domain(domains["reported"])
    rows = []
    for kind, domain in domains.items():
        rewards = np.asarray(relabel(domain, dataset.next_physics, dataset.action))
        share = rewarded_in_sample(rewards, rewards.T) / len(rewards)
        per_seed = np.stack([rewarded_in_sample(rewards, inference_data(
            dataset, rewards, config.eval.inference_samples, config.eval.num_starts,
            seed).rewards) for seed in config.seeds], axis=1)  # (tasks, seeds)
        for t, task in enumerate(domain.task_names):
            counts = [int(n) for n in per_seed[t]]
            rows.append({"kind": kind, "task": task, "dataset_share": round(float(share[t]), 6),
                         "in_inference_sample": counts})
            print(f"{kind:11s} {task:20s} {rows[-1]['dataset_share']:.4%} of the dataset, "
                  f"{counts} of {config.eval.inference_samples} inference samples "
                  f"(seeds {list(config.seeds)})", flush=True)
    stem = _OUT.value or os.path.join("studies", "reward_coverage", "results",
                                      f"reward_coverage_{config.domain}")
    result = {"domain": config.domain, "dataset_rows": dataset.rows,
              "rule": REWARDED_RULE,
              "inference_samples": config.eval.inference_samples, "seeds": list(config.seeds),
              "rows": rows, "provenance": made_by}
    write_results(stem, result, coverage_table(CoverageResult.from_json(result)))


if __name__ == "__main__":
    run(main)
