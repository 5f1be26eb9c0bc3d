"""Train an FB model on a finite MDP and compare it with the exact answers.

  python experiments/train.py --config=experiments/configs/tabular.py
  python experiments/train.py --config=experiments/configs/tabular.py --config.fb.z_dim=64 \
      --config.phases.control=20000 --config.workdir=/tmp/run1

Each phase checkpoints under WORKDIR/PHASE (orbax, plus config.json) and resumes from there when
run again with the same config; results go to WORKDIR/results.json.
"""

import json
import os
import sys

from absl import app, logging
from ml_collections import config_flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fbjax.tabular.experiment import PHASES, run_phase  # noqa: E402
from fbjax.train.loop import print_progress  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file(
    "config", "experiments/configs/tabular.py", "Experiment config file.")


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
    config = json.loads(_CONFIG.value.to_json())
    workdir = os.path.abspath(config["workdir"])
    results = []
    for phase in PHASES:
        if config["phases"].get(phase, 0) <= 0:
            continue
        print(f"[{phase}] training {config['phases'][phase]} steps in {workdir}", flush=True)
        result = run_phase(config, phase, workdir, progress_fn=print_progress)
        print(_summary(result), flush=True)
        results.append(result)
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(f"results written to {os.path.join(workdir, 'results.json')}")


if __name__ == "__main__":
    app.run(main)
