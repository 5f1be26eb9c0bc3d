"""Choosing the maze default's FB training settings on development goals and development seeds.

  python -m studies.maze_selection                      # every variant, 4 dev seeds
  python -m studies.maze_selection --variants=ref_rates,zol_rates --checkpoints=5000,10000
  # -> studies/maze_selection/results/selection_point_mass_maze.{json,md}

Each variant is the maze config (experiments/configs/point_mass_maze.py) with the FB settings of
VARIANTS below. Every variant trains --seeds (development seeds, 100-103 by default; the reports
use 0-3) in one program on the config's dataset, and at each of --checkpoints is prompted for the
development goals (fbjax.eval.dev_tasks.DEV_GOALS, none of them a reported target) two ways:
reward inference over *every* row of the dataset (`reward_inference_all`) and the goal prompt
z = B(goal). Every (seed, prompt) is rolled out for --episodes paired episodes, all in one
compiled program; the scripted navigator is the yardstick.

The rule, written down before any of these runs was looked at: the default takes the variant
with the highest mean "% of the navigator" of the *reward* prompt (what the reports use), averaged
over the four development goals and the development seeds, at the last checkpoint that the CPU
budget affords (--budget_updates); ties within 2 points go to the earlier variant in VARIANTS
(the cheaper or the reference's). No reported task (reach_top_left ... reach_bottom_right) and no
reported seed is evaluated here.
"""

import dataclasses
import math
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
from fbjax.eval.dev_tasks import DEV_GOALS, dev_domain, goal_states, rewarded
from fbjax.eval.evaluator import make_evaluator, navigator_policy
from fbjax.fb.inference import goal_inference, reward_inference_all
from fbjax.fb.learner import FBAgent
from fbjax.pipeline.mjx import collect_data
from fbjax.pipeline.workdir import dataset_description, load_checked
from fbjax.provenance import provenance, write_results
from fbjax.train.seeds import stack, train_seeds

XY = (0, 1)
# name -> FBConfig overrides of the maze config. Every variant but `full_obs` puts B on the
# maze's (x, y) goal space. Rates are (F, B, actor); the references' per-network rates are in
# ../shared/REFERENCES.md (controllable_agent 1e-4 x 3; metamotivo's point mass 1e-4/1e-6/1e-6;
# the ZOL code's 1e-4/1e-4/1e-6).
VARIANTS = {
    "ref_rates": dict(goal_indices=XY, lr_forward=1e-4, lr_backward=1e-4, lr_actor=1e-4),
    "zol_rates": dict(goal_indices=XY, lr_forward=1e-4, lr_backward=1e-4, lr_actor=1e-6),
    "metamotivo_rates": dict(goal_indices=XY, lr_forward=1e-4, lr_backward=1e-6, lr_actor=1e-6),
    "fast_rates": dict(goal_indices=XY, lr_forward=3e-4, lr_backward=3e-4, lr_actor=3e-4),
    "full_obs": dict(goal_indices=(), lr_forward=3e-4, lr_backward=3e-4, lr_actor=3e-4),
    "ref_rates_tau05": dict(goal_indices=XY, lr_forward=1e-4, lr_backward=1e-4, lr_actor=1e-4,
                            tau=0.05),
    "fast_rates_tau05": dict(goal_indices=XY, lr_forward=3e-4, lr_backward=3e-4, lr_actor=3e-4,
                             tau=0.05),
    "ref_rates_b256": dict(goal_indices=XY, lr_forward=1e-4, lr_backward=1e-4, lr_actor=1e-4,
                           backward_hidden=256),
    "ref_rates_z50": dict(goal_indices=XY, lr_forward=1e-4, lr_backward=1e-4, lr_actor=1e-4,
                          z_dim=50),
    # The Bellman target of the original FB code: min over the two target F members (lambda_F
    # = 0.5 with K = 2), where SPEC's default averages them.
    "ref_rates_min_target": dict(goal_indices=XY, lr_forward=1e-4, lr_backward=1e-4,
                                 lr_actor=1e-4, forward_pessimism=0.5),
    # On the B 256 default: the original FB code's orthonormality weight in SPEC's units (its
    # loss is mean_{i!=j} C_ij^2 - 2 mean_i C_ii, twice SPEC's, at coefficient 1), and z_dim 50.
    "ref_rates_b256_ortho2": dict(goal_indices=XY, lr_forward=1e-4, lr_backward=1e-4,
                                  lr_actor=1e-4, backward_hidden=256, ortho_coef=2.0),
    "ref_rates_b256_z50": dict(goal_indices=XY, lr_forward=1e-4, lr_backward=1e-4,
                               lr_actor=1e-4, backward_hidden=256, z_dim=50),
}

_VARIANTS = flags.DEFINE_list("variants", list(VARIANTS), "Variants of VARIANTS to run.")
_SEEDS = flags.DEFINE_list("seeds", ["100", "101", "102", "103"], "Development seeds.")
_CHECKPOINTS = flags.DEFINE_list("checkpoints", ["2500", "5000", "10000", "20000"],
                                 "Updates at which every variant is evaluated (increasing).")
_EPISODES = flags.DEFINE_integer("episodes", 30, "Paired episodes per (seed, prompt).")
_BUDGET = flags.DEFINE_integer("budget_updates", 5000, "The updates per seed the CPU default "
                               "can afford (4 seeds in about 400 s of the slower 2-core "
                               "machine): the rule reads the last checkpoint at or below it.")
_WORK = flags.DEFINE_string("work", "/tmp/maze_selection", "Scratch folder for the runs.")
_REPEAT = flags.DEFINE_integer("action_repeat", 1, "Control the maze this many physics steps "
                               "per action (fbjax.envs.with_action_repeat): data, training and "
                               "evaluation all on DOMAIN_xN, episodes of the same 20 s.")
_OUT = flags.DEFINE_string("out", None, "Output stem (default studies/maze_selection/results/"
                           "selection_DOMAIN).")


def _evaluate(domain, agent, states, seeds, goals, dev_rewards, dataset, episodes, key):
    """{'reward': (S, G) mean returns, 'goal': (S, G)} for every seed's two prompts."""
    nets, num_goals = agent.networks, len(goals)
    zs = {"reward": [], "goal": []}
    for seed in seeds:
        b = states[seed].params.backward
        zs["reward"].append(reward_inference_all(nets, b, dataset.next_obs, dev_rewards))
        zs["goal"].append(goal_inference(nets, b, goals))
    prompts = [(p, s) for p in zs for s in range(len(seeds))]
    actors = stack([states[seeds[s]].params.actor for p, s in prompts])
    z = jnp.stack([zs[p][s] for p, s in prompts]).reshape(len(prompts), num_goals, -1)

    def policy(shared, per_prompt, obs, key):
        del shared, key
        actor, z = per_prompt
        return nets.actor_mean(actor, obs, jnp.broadcast_to(z, (obs.shape[0], z.shape[-1])))

    evaluate = make_evaluator(domain, policy, episodes, discount=agent.config.discount)
    # Every (prompt, seed) x goal as one prompt of the evaluator: the same starts per goal.
    per_prompt = (jax.tree.map(lambda x: jnp.repeat(x, num_goals, axis=0), actors),
                  z.reshape(-1, z.shape[-1]))
    task_ids = jnp.tile(jnp.arange(num_goals), len(prompts))
    returns = np.asarray(evaluate(None, per_prompt, task_ids, key)["return"]).mean(axis=1)
    returns = returns.reshape(len(zs), len(seeds), num_goals)
    return {p: returns[i] for i, p in enumerate(zs)}


def _flags() -> tuple[list[int], list[int]]:
    """The checked --variants, --checkpoints and --seeds: (checkpoints, seeds)."""
    unknown = [v for v in _VARIANTS.value if v not in VARIANTS]
    if unknown:
        raise ValueError(f"--variants: unknown {unknown}; known: {list(VARIANTS)}")
    checkpoints = [int(c) for c in _CHECKPOINTS.value]
    if not checkpoints or checkpoints != sorted(set(checkpoints)) or checkpoints[0] < 1:
        raise ValueError(f"--checkpoints must be increasing positive integers, got "
                         f"{_CHECKPOINTS.value}")
    seeds = [int(s) for s in _SEEDS.value]
    if set(seeds) & {0, 1, 2, 3}:
        raise ValueError(f"--seeds {seeds}: 0-3 are the reported seeds; use development seeds")
    return checkpoints, seeds


def _development_domain(config):
    """(config, the domain with the development tasks), both on DOMAIN_xN with
    --action_repeat=N > 1 (registered, so collection and the dataset name it)."""
    domain = dev_domain(envs.make(config.domain))
    if _REPEAT.value > 1:
        name = f"{config.domain}_x{_REPEAT.value}"
        base = envs.make(config.domain)
        envs.register(name, lambda: envs.with_action_repeat(base, _REPEAT.value, name))
        config = dataclasses.replace(config, domain=name)
        domain = envs.with_action_repeat(domain, _REPEAT.value, name)
    return config, domain


def _variant_rows(name, config, data, seeds, checkpoints, goals, reference, key) -> list[dict]:
    """Train variant `name` for every seed in one program, evaluating at each checkpoint: one
    row per (checkpoint, prompt). data = (domain, dataset, dev_rewards)."""
    domain, dataset, dev_rewards = data
    fb = dataclasses.replace(config.fb, **VARIANTS[name])
    description = {"fb": dataclasses.asdict(fb), **dataset_description(config, dataset)}
    agent = FBAgent(fb, dataset.obs_dim, dataset.action_dim)
    run_dirs = {s: os.path.join(_WORK.value, name, f"seed_{s}") for s in seeds}
    every = math.gcd(*checkpoints)  # the same on every resume, as resuming requires
    goal_input = goals if agent.networks.goal_dim == 2 else goal_states(goals)
    rows, train_s, transitions = [], 0.0, dataset.transitions()
    for steps in checkpoints:
        train = dataclasses.replace(config.train, num_steps=steps, save_every=every,
                                    steps_per_call=math.gcd(config.train.steps_per_call, every))
        t0 = time.perf_counter()
        states = jax.block_until_ready(train_seeds(agent, transitions, run_dirs, description,
                                                   train, progress_fn=None))
        train_s += time.perf_counter() - t0
        out = _evaluate(domain, agent, states, seeds, goal_input, dev_rewards, dataset,
                        _EPISODES.value, key)
        for prompt, returns in out.items():
            pct = 100 * returns / np.asarray(reference)[None]
            rows.append({"variant": name, "updates": steps, "prompt": prompt,
                         "train_wall_s": round(train_s, 1),
                         "returns": np.round(returns, 1).tolist(),
                         "pct_of_navigator": round(float(pct.mean()), 1),
                         "pct_per_seed": [round(float(p), 1) for p in pct.mean(axis=1)]})
            print(f"[select] {name} {steps} updates ({train_s:.0f}s training) {prompt}: "
                  f"{rows[-1]['pct_of_navigator']}% of the navigator, per seed "
                  f"{rows[-1]['pct_per_seed']}", flush=True)
    return rows


def main(argv):
    del argv
    config = read_config()
    made_by = provenance(" ".join(["python -m studies.maze_selection", *sys.argv[1:]]))
    checkpoints, seeds = _flags()
    config, domain = _development_domain(config)
    collect_data(config)
    dataset = load_checked(config)
    dev_rewards = np.asarray(relabel(domain, dataset.next_physics, dataset.action))
    coverage = rewarded(dev_rewards, dev_rewards.T)
    print(f"[select] dev goals' rewarded share of the dataset {list(coverage.dataset_share)}",
          flush=True)
    goals = jnp.asarray(list(DEV_GOALS.values()), jnp.float32)
    key = jax.random.PRNGKey(12_345)
    navigator = make_evaluator(domain, navigator_policy(), _EPISODES.value,
                               discount=config.fb.discount)
    reference = np.asarray(navigator(None, goals, jnp.arange(len(goals)), key)["return"]).mean(1)
    reference = [round(float(r), 1) for r in reference]
    print(f"[select] navigator {reference}", flush=True)
    data = (domain, dataset, dev_rewards)
    stem = _OUT.value or os.path.join("studies", "maze_selection", "results",
                                      f"selection_{config.domain}")
    rows = []
    for name in _VARIANTS.value:
        began = time.perf_counter()
        rows += _variant_rows(name, config, data, seeds, checkpoints, goals, reference, key)
        print(f"[select] {name} done in {time.perf_counter() - began:.0f}s", flush=True)
        # After every variant, so a run cut short keeps the variants it finished.
        done = list(dict.fromkeys(r["variant"] for r in rows))
        result = {"domain": config.domain, "action_repeat": _REPEAT.value, "seeds": seeds,
                  "goals": DEV_GOALS, "episodes": _EPISODES.value,
                  "base_fb": dataclasses.asdict(config.fb),
                  "collect": dataclasses.asdict(config.collect),
                  "variants": {v: VARIANTS[v] for v in done}, "coverage": coverage.to_json(),
                  "navigator": reference, "budget_updates": _BUDGET.value,
                  "complete": done == _VARIANTS.value,
                  "chosen": choose(rows, done, _BUDGET.value), "rows": rows,
                  "provenance": made_by}
        write_results(stem, result, markdown(result))


def choose(rows: list[dict], order: list[str], budget: int) -> str | None:
    """The rule of the module docstring: best mean % of the navigator of the reward prompt at the
    last checkpoint <= budget; ties within 2 points go to the earlier variant of `order`."""
    at = [r for r in rows if r["prompt"] == "reward" and r["updates"] <= budget]
    if not at:
        return None
    last = max(r["updates"] for r in at)
    score = {r["variant"]: r["pct_of_navigator"] for r in at if r["updates"] == last}
    best = max(score.values())
    return next(v for v in order if v in score and score[v] >= best - 2.0)


def markdown(result: dict) -> str:
    names = list(result["goals"])
    lines = [f"# FB training settings for {result['domain']}, chosen on development goals",
             "",
             f"Development seeds {result['seeds']}, {result['episodes']} paired episodes per "
             "(seed, prompt, goal); goals " + ", ".join(
                 f"{k} {tuple(v)}" for k, v in result["goals"].items())
             + f"; navigator {result['navigator']}. Prompts: reward = reward inference over "
             "every row of the dataset, goal = B(goal). Rule (studies/maze_selection/): "
             "best mean % of the navigator of the reward prompt at "
             f"{result['budget_updates']} updates or fewer. Chosen: **{result['chosen']}**. "
             "Command, commit and machine: the provenance in the .json beside this file.",
             "",
             "| variant | updates | training s | prompt | " + " | ".join(names)
             + " | % of navigator | per seed |",
             "|" + "---|" * (len(names) + 6)]
    for r in result["rows"]:
        lines.append(f"| {r['variant']} | {r['updates']} | {r['train_wall_s']} | {r['prompt']} | "
                     + " | ".join(f"{np.mean(col):.1f}" for col in np.asarray(r["returns"]).T)
                     + f" | {r['pct_of_navigator']} | {r['pct_per_seed']} |")
    lines += ["", "Variants (FBConfig overrides of the maze config):", ""]
    lines += [f"* `{k}`: {v}" for k, v in result["variants"].items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run(main)
