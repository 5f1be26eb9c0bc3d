"""FB's learning curve on development tasks: return against updates and wall time on this machine.

  python -m studies.learning_curve --config=experiments/configs/point_mass_maze.py \\
      --checkpoints=5000,10000,20000,40000
  # -> studies/learning_curve/results/learning_curve_point_mass_maze.{json,md}

Trains one FB model of --config on the config's dataset (collected first if WORKDIR has none) with
a *development* seed (--seed, 100 by default; the reports use 0-3) and, at every checkpoint,
prompts it for *development* tasks: reach tasks at goals that are not the reported targets
(DEV_GOALS; their reward regions do not overlap the targets'). Two prompts per goal: reward
inference on the config's inference settings (what the reports use), and the goal prompt
z = B(goal at rest) (SPEC section 4), which needs no rewarded samples. Their gap says how much of
a failure is the prompt (few rewarded states in the inference sample: their count per goal is
printed) and how much the model. Each prompt is rolled out for --episodes paired episodes; the
scripted navigator (`fbjax.envs.point_mass_maze.navigator`) is the yardstick ("% of navigator")
and a random policy the floor. Training time is wall time of the training calls alone
(checkpoint writes included, evaluation excluded), so the curve says what a training budget on
this machine buys. Choosing a training setting from this curve is legitimate: no reported task or
seed is in it.
"""

import dataclasses
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import flags

import fbjax.envs as envs
from experiments.common import read_config, run
from fbjax.data.relabel import relabel
from fbjax.eval.dev_tasks import (
    DEV_GOALS,
    LearningCurve,
    dev_domain,
    goal_states,
    learning_curve_table,
    rewarded,
)
from fbjax.eval.evaluator import fb_policy, make_evaluator, navigator_policy, random_policy
from fbjax.eval.zero_shot import infer_latents, inference_data
from fbjax.fb.inference import goal_inference
from fbjax.pipeline.mjx import collect_data, load_checked, train_fb
from fbjax.provenance import provenance, write_results

_SEED = flags.DEFINE_integer("seed", 100, "FB training seed (a development seed).")
_CHECKPOINTS = flags.DEFINE_list("checkpoints", ["5000", "10000", "20000"],
                                 "Updates at which FB is evaluated (increasing).")
_EPISODES = flags.DEFINE_integer("episodes", 50, "Paired episodes per prompt.")
_PROMPTS = flags.DEFINE_list("prompts", ["reward", "goal"],
                             "Prompts evaluated at every checkpoint: reward (reward inference), "
                             "goal (z = B(goal state)).")
_OUT = flags.DEFINE_string("out", None, "Output stem (default studies/learning_curve/results/"
                           "learning_curve_DOMAIN).")


def _mean_returns(out) -> list[float]:
    return [round(float(r), 1) for r in np.asarray(out["return"]).mean(axis=1)]


def _checked_flags() -> tuple[list[int], list[str]]:
    checkpoints = [int(c) for c in _CHECKPOINTS.value]
    if not checkpoints or checkpoints != sorted(set(checkpoints)) or checkpoints[0] < 1:
        raise ValueError(f"--checkpoints must be increasing positive integers, got "
                         f"{_CHECKPOINTS.value}")
    prompts = list(_PROMPTS.value)
    if not prompts or set(prompts) - {"reward", "goal"} or len(set(prompts)) != len(prompts):
        raise ValueError(f"--prompts must be distinct names among reward, goal; got "
                         f"{_PROMPTS.value}")
    return checkpoints, prompts


def main(argv):
    del argv
    config = read_config()
    # Recorded before the run starts: the commit and working tree that the run executes.
    made_by = provenance(" ".join(["python -m studies.learning_curve", *sys.argv[1:]]))
    checkpoints, prompts = _checked_flags()
    domain = dev_domain(envs.make(config.domain))
    stem = _OUT.value or os.path.join("studies", "learning_curve", "results",
                                      f"learning_curve_{config.domain}")
    collect_data(config)
    dataset = load_checked(config)
    rewards = np.asarray(relabel(domain, dataset.next_physics, dataset.action))
    task_ids = jnp.arange(len(DEV_GOALS))
    key = jax.random.PRNGKey(_SEED.value)
    discount, episodes = config.fb.discount, _EPISODES.value

    goals = jnp.asarray(list(DEV_GOALS.values()), jnp.float32)
    reference = {name: _mean_returns(make_evaluator(domain, policy, episodes, discount=discount)(
        None, goals, task_ids, key)) for name, policy in (
            ("navigator", navigator_policy()), ("random", random_policy(domain.action_dim)))}
    print(f"[curve] navigator {reference['navigator']}, random {reference['random']}",
          flush=True)

    data = inference_data(dataset, rewards, config.eval.inference_samples, config.eval.num_starts,
                          _SEED.value)
    coverage = rewarded(rewards, data.rewards)
    print(f"[curve] rewarded states: share of the dataset {list(coverage.dataset_share)}, in the "
          f"{coverage.inference_samples} inference samples "
          f"{list(coverage.rewarded_in_inference_sample)}", flush=True)
    rows, train_seconds, evaluator = [], 0.0, None
    for steps in checkpoints:
        run_config = dataclasses.replace(
            config, train=dataclasses.replace(config.train, num_steps=steps))
        began = time.perf_counter()
        agent, state = train_fb(run_config, _SEED.value, dataset)
        jax.block_until_ready(state.params)
        train_seconds += time.perf_counter() - began
        if evaluator is None:
            evaluator = make_evaluator(domain, fb_policy(agent.networks), episodes,
                                       discount=discount)
        for prompt in prompts:
            z = (infer_latents(agent, state.params, data, [], 0).fb if prompt == "reward"
                 else goal_inference(agent.networks, state.params.backward, goal_states(goals)))
            returns = _mean_returns(evaluator(state.params, z, task_ids, key))
            share = [r / n for r, n in zip(returns, reference["navigator"], strict=True)]
            row = {"updates": steps, "train_wall_s": round(train_seconds, 1), "prompt": prompt,
                   "returns": returns, "mean_return": round(float(np.mean(returns)), 1),
                   "pct_of_navigator": round(100 * float(np.mean(share)), 1)}
            rows.append(row)
            print(f"[curve] {steps} updates, {train_seconds:.0f}s training, {prompt} prompt: "
                  f"{returns} ({row['pct_of_navigator']}% of the navigator)", flush=True)

    result = {"domain": config.domain, "seed": _SEED.value, "tasks": DEV_GOALS,
              "episodes": episodes, "discount": discount, "fb": dataclasses.asdict(config.fb),
              "batch_size": config.fb.batch_size, "dataset_rows": dataset.rows,
              "reference": reference, "coverage": coverage.to_json(), "rows": rows,
              "provenance": made_by}
    write_results(stem, result, learning_curve_table(LearningCurve.from_json(result)))


if __name__ == "__main__":
    run(main)
