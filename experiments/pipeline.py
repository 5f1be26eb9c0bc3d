"""The whole job on the embedded default: collect -> pretrain FB -> prompt -> evaluate -> report.

  python -m experiments.pipeline                                   # point-mass maze, CPU-sized
  python -m experiments.pipeline --config=experiments/configs/walker.py   # on an accelerator

Each stage keeps what an earlier run of the same config finished (the dataset, FB checkpoints),
so an interrupted pipeline resumes; a second pipeline on the same workdir is refused while this
one runs. Ends by printing the results table.
"""

import time

from experiments.common import read_config, run
from fbjax.pipeline.mjx import collect_data, evaluate_all, train_all
from fbjax.pipeline.mjx_report import report
from fbjax.pipeline.workdir import Workdir
from fbjax.train.lock import folder_lock


def main(argv):
    del argv
    config = read_config()
    start, stages = time.perf_counter(), []
    with folder_lock(Workdir.of(config).root, "give this run another --config.workdir"):
        for name, stage in (("collect", collect_data), ("train", train_all),
                            ("evaluate", evaluate_all), ("report", report)):
            began = time.perf_counter()
            print(f"\n=== {name} ({time.perf_counter() - start:.0f}s elapsed) ===", flush=True)
            out = stage(config)
            stages.append(f"{name} {time.perf_counter() - began:.0f}s")
    print("\n" + out, flush=True)
    print(f"\npipeline finished in {time.perf_counter() - start:.0f}s ({', '.join(stages)}); "
          f"report in {Workdir.of(config).report}", flush=True)


if __name__ == "__main__":
    run(main)
