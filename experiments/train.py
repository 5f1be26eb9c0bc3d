"""Train FB: on an MJX dataset (configs with a `domain`, the default), or on a finite MDP compared
with the exact answers (configs with an `env`).

  python -m experiments.train                                   # point mass, after collect
  python -m experiments.train --config.train.parallel=sharded   # over every device
  python -m experiments.train --what=oracle                     # the TD3 oracles (or both)
  python -m experiments.train --config=experiments/configs/tabular.py
  python -m experiments.train --config=experiments/configs/tabular.py --config.fb.z_dim=64 \
      --config.train.num_steps=20000 --config.workdir=/tmp/run1

Every run checkpoints under its directory (orbax, plus config.json and metrics/) and resumes
there when run again with the same config. Several hosts: add --coordinator_address=HOST0:PORT
--num_processes=N --process_id=I on each.
"""

import json
import os

import jax
from absl import app, flags

from experiments.common import read_config, run
from fbjax.pipeline.config import ExperimentConfig, TabularConfig
from fbjax.pipeline.mjx import train_all, train_oracles_all
from fbjax.pipeline.tabular import PHASES, params_digest, phase_steps, run_phase
from fbjax.train.sharding import to_host

WHAT = flags.DEFINE_enum("what", "fb", ["fb", "oracle", "both"],
                         "MJX configs: train FB, the TD3 oracles (which experiments.evaluate "
                         "would otherwise train first), or both")


def _summary(result: dict) -> str:
    if result["phase"] == "policy_eval":
        return (f"policy evaluation ({result['steps']} steps): mean TV(learned M, exact M) of the "
                f"uniform policy = {result['tv_mean']:.4f}")
    lines = [f"control ({result['steps']} steps): goal prompts z = goal_inference(g)",
             "  goal  success  TV(learned M, exact M of pi_z)"]
    lines += [f"  {r['goal']:>4d}  {r['success']:7.3f}  {r['tv']:.4f}" for r in result["goals"]]
    lines.append(f"  mean success {result['success_mean']:.3f} (min {result['success_min']:.3f})"
                 f", mean TV {result['tv_mean']:.4f}")
    return "\n".join(lines)


def train_mjx(config: ExperimentConfig, what: str = "fb") -> None:
    if what in ("fb", "both"):
        for seed, state in train_all(config).items():
            print(f"[train] seed {seed} process {jax.process_index()} params digest "
                  f"{params_digest(to_host(state.params))}", flush=True)
    if what in ("oracle", "both"):
        train_oracles_all(config)


def train_tabular(config: TabularConfig) -> None:
    workdir = os.path.abspath(config.workdir)
    main_process, results = jax.process_index() == 0, []
    for phase in PHASES:
        if phase_steps(config, phase) <= 0:
            continue
        if main_process:
            print(f"[{phase}] training {phase_steps(config, phase)} steps in {workdir} on "
                  f"{jax.device_count()} device(s), {jax.process_count()} process(es)", flush=True)
        result = run_phase(config, phase, workdir)
        print(f"[{phase}] process {jax.process_index()} params digest {result['params_digest']}",
              flush=True)
        if main_process:
            print(_summary(result), flush=True)
        results.append(result)
    if main_process:
        os.makedirs(workdir, exist_ok=True)
        with open(os.path.join(workdir, "results.json"), "w") as f:
            json.dump(results, f, indent=2)
        print(f"results written to {os.path.join(workdir, 'results.json')}")


def main(argv):
    del argv
    config = read_config(mjx_only=False)
    if isinstance(config, ExperimentConfig):
        train_mjx(config, WHAT.value)
    elif WHAT.value != "fb":
        raise app.UsageError(f"--what={WHAT.value}: a finite-MDP config has no oracles to "
                             "train; leave --what out")
    else:
        train_tabular(config)


if __name__ == "__main__":
    run(main)
