"""Write the results table (markdown), a bar chart per task and the estimated-vs-true scatter.

  python experiments/report.py --config=experiments/configs/point_mass.py

Reads WORKDIR/eval/results.json; writes WORKDIR/report/{results.md, bars.png, scatter.png}.
"""

import json
import os
import sys

from absl import app, logging
from ml_collections import config_flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fbjax.eval.experiment import paths, report  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file(
    "config", "experiments/configs/point_mass.py", "Experiment config file.")


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    config = json.loads(_CONFIG.value.to_json())
    print(report(config), flush=True)
    print(f"\nreport written to {paths(config)['report']}", flush=True)


if __name__ == "__main__":
    app.run(main)
