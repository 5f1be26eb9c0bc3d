"""Collect a reward-free dataset in an MJX domain.

  python -m experiments.collect --config=experiments/configs/point_mass.py
  python -m experiments.collect --config=experiments/configs/point_mass.py \
      --config.collect.policy=noise --config.collect.num_envs=256 --config.workdir=/tmp/pm

Writes WORKDIR/dataset (the `fbjax.data.store` format). The dataset is built in
WORKDIR/dataset.partial and renamed when complete, so an interrupted run leaves nothing that looks
finished; a complete dataset made with the same settings is kept and not collected again.
"""



from experiments.common import read_config, run
from fbjax.pipeline.mjx import collect_data


def main(argv):
    del argv
    collect_data(read_config())


if __name__ == "__main__":
    run(main)
