"""Evaluate every method on every task of the domain, for every training seed.

  python experiments/evaluate.py --config=experiments/configs/point_mass.py
  python experiments/evaluate.py --config=experiments/configs/point_mass.py \
      --config.eval.methods=fb,random --config.eval.num_episodes=20

Methods: fb (reward inference), fb_zol (ZOL latent search), fb_rwr (ratio-weighted regression),
td3 (offline TD3 oracle trained here on the same data with the task's reward), random. Needs
WORKDIR/dataset (collect.py) and WORKDIR/fb/seed_S (train.py); writes WORKDIR/eval/results.json.
"""

import os
import sys

from absl import app

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from experiments.common import read_config  # noqa: E402
from fbjax.eval.experiment import evaluate_all, paths  # noqa: E402


def main(argv):
    del argv
    config = read_config()
    rows = evaluate_all(config)
    print(f"[evaluate] {len(rows)} rows written to "
          f"{os.path.join(paths(config)['eval'], 'results.json')}", flush=True)


if __name__ == "__main__":
    app.run(main)
