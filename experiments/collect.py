"""Collect a reward-free dataset in an MJX domain.

  python experiments/collect.py --config=experiments/configs/point_mass.py
  python experiments/collect.py --config=experiments/configs/point_mass.py \
      --config.collect.policy=noise --config.collect.num_envs=256 --config.workdir=/tmp/pm

Writes WORKDIR/dataset (the `fbjax.data.store` format). The dataset is built in
WORKDIR/dataset.partial and renamed when complete, so an interrupted run leaves nothing that looks
finished; a complete dataset made with the same settings is kept and not collected again.
"""

import os
import sys

from absl import app

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from experiments.common import read_config  # noqa: E402
from fbjax.eval.experiment import collect_data  # noqa: E402


def main(argv):
    del argv
    collect_data(read_config())


if __name__ == "__main__":
    app.run(main)
