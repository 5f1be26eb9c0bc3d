"""Evaluate every method on every task of the domain, for every training seed.

  python -m experiments.evaluate --config=experiments/configs/point_mass.py
  python -m experiments.evaluate --config=experiments/configs/point_mass.py \
      --config.eval.methods=fb,random --config.eval.num_episodes=20

Methods: fb (reward inference), zol_published (ZOL in the authors' published regime, fixed in
advance), zol_selected (ZOL with a grid setting chosen per task on the other tasks), rwr
(ratio-weighted regression, an ablation), td3 (offline TD3 oracle trained here on the same data
with the task's reward), random. Every method of a task and seed runs from the same start
states. Needs WORKDIR/dataset (collect.py) and WORKDIR/fb/seed_S (train.py); writes
WORKDIR/eval/results.json (rows, the ZOL grid and the selection).
"""


from experiments.common import read_config, run
from fbjax.pipeline.mjx import evaluate_all
from fbjax.pipeline.workdir import Workdir


def main(argv):
    del argv
    config = read_config()
    rows = evaluate_all(config)
    print(f"[evaluate] {len(rows)} rows written to "
          f"{Workdir.of(config).results}", flush=True)


if __name__ == "__main__":
    run(main)
