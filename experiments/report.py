"""Write the results table (markdown) and the figures (`fbjax.eval.figures`, PNG and PDF).

  python -m experiments.report --config=experiments/configs/point_mass.py

Reads WORKDIR/eval/results.json; writes WORKDIR/report/: results.md, summary.json, and scores
(% of the oracle), differences (to fb), scatter (OPE against truth), intervals and improvement
(rliable) as .png and .pdf.
"""



from experiments.common import read_config, run
from fbjax.pipeline.mjx_report import report
from fbjax.pipeline.workdir import Workdir


def main(argv):
    del argv
    config = read_config()
    print(report(config), flush=True)
    print(f"\nreport written to {Workdir.of(config).report}", flush=True)


if __name__ == "__main__":
    run(main)
