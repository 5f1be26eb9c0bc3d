"""Train an FB model: on an MJX dataset (configs with a `domain`), or on a finite MDP, compared
with the exact answers (configs with an `env`, the default).

  python experiments/train.py --config=experiments/configs/point_mass.py   # after collect.py
  python experiments/train.py --config=experiments/configs/tabular.py
  python experiments/train.py --config=experiments/configs/tabular.py --config.fb.z_dim=64 \
      --config.phases.control=20000 --config.workdir=/tmp/run1

Each phase checkpoints under WORKDIR/PHASE (orbax, plus config.json) and resumes from there when
run again with the same config; results go to WORKDIR/results.json.
"""

import json
import os
import sys

import jax
from absl import app, flags, logging
from ml_collections import config_flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fbjax.eval.experiment import train_all  # noqa: E402
from fbjax.tabular.experiment import PHASES, run_phase  # noqa: E402
from fbjax.train.loop import print_progress  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file(
    "config", "experiments/configs/tabular.py", "Experiment config file.")
_COORDINATOR = flags.DEFINE_string(
    "coordinator_address", None, "host:port of process 0, for multi-process training.")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", 1, "Number of processes.")
_PROCESS_ID = flags.DEFINE_integer("process_id", 0, "This process's index.")


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


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # orbax logs every file it writes at INFO
    if _NUM_PROCESSES.value > 1:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value)
    main_process = jax.process_index() == 0
    config = json.loads(_CONFIG.value.to_json())
    if "domain" in config:
        train_all(config)
        return
    workdir = os.path.abspath(config["workdir"])
    results = []
    for phase in PHASES:
        if config["phases"].get(phase, 0) <= 0:
            continue
        if main_process:
            print(f"[{phase}] training {config['phases'][phase]} steps in {workdir} on "
                  f"{jax.device_count()} device(s), {jax.process_count()} process(es)", flush=True)
        result = run_phase(config, phase, workdir, progress_fn=print_progress)
        print(f"[{phase}] process {jax.process_index()} params digest {result['params_digest']}",
              flush=True)
        if main_process:
            print(_summary(result), flush=True)
        results.append(result)
    if not main_process:
        return
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"results written to {os.path.join(workdir, 'results.json')}")


if __name__ == "__main__":
    app.run(main)
