"""Write the results table (markdown), a bar chart per task and the estimated-vs-true scatter.

  python experiments/report.py --config=experiments/configs/point_mass.py

Reads WORKDIR/eval/results.json; writes WORKDIR/report/{results.md, bars.png, scatter.png}.
"""

import os
import sys

from absl import app

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from experiments.common import read_config  # noqa: E402
from fbjax.eval.experiment import paths, report  # noqa: E402


def main(argv):
    del argv
    config = read_config()
    print(report(config), flush=True)
    print(f"\nreport written to {paths(config)['report']}", flush=True)


if __name__ == "__main__":
    app.run(main)
