"""Collect a reward-free dataset in an MJX domain.

  python experiments/collect.py --config=experiments/configs/point_mass.py
  python experiments/collect.py --config=experiments/configs/point_mass.py \
      --config.collect.policy=noise --config.collect.num_envs=256 --config.workdir=/tmp/pm

Writes WORKDIR/dataset (the `fbjax.data.store` format). The dataset is built in
WORKDIR/dataset.partial and renamed when complete, so an interrupted run leaves nothing that looks
finished; a complete dataset made with the same settings is kept and not collected again.
"""

import json
import os
import sys

from absl import app, logging
from ml_collections import config_flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fbjax.eval.experiment import collect_data  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file(
    "config", "experiments/configs/point_mass.py", "Experiment config file.")


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    collect_data(json.loads(_CONFIG.value.to_json()))


if __name__ == "__main__":
    app.run(main)
