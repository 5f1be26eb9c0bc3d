"""Write each seed's trained FB model as an inference checkpoint: F, B and the actor alone (no
target networks, no optimiser state), about 2.5 MB a seed at the maze default's widths, with the
digest of its values and the export's provenance (fbjax.train.export).

  python -m experiments.export --out=/tmp/maze_models          # OUT/seed_S/ for every seed
  python -m experiments.pipeline --config.fb_from=/tmp/maze_models \\
      --config.workdir=/tmp/maze_eval    # load -> prompt -> ZOL -> evaluate; nothing trained

The pipeline refuses an export whose FB settings differ from the config's or which was trained
for another domain, and evaluates it as it evaluates the run it came from (the same rows).
"""

import os
import sys

from absl import flags

from experiments.common import read_config, run
from fbjax.pipeline.workdir import Workdir
from fbjax.train.export import export_fb

_OUT = flags.DEFINE_string("out", None, "Folder for the exports (OUT/seed_S/).", required=True)
_STEP = flags.DEFINE_integer("step", None, "The checkpoint to export (default: each run's "
                             "latest).")


def main(argv):
    del argv
    config = read_config()
    workdir = Workdir.of(config)
    command = " ".join(["python -m experiments.export", *sys.argv[1:]])
    missing = [s for s in config.seeds
               if not os.path.exists(os.path.join(workdir.fb_run(s), "config.json"))]
    if missing:  # checked before anything is written
        raise FileNotFoundError(f"export: no FB run for seed(s) {missing} under "
                                f"{os.path.dirname(workdir.fb_run(missing[0]))}; train them "
                                "first (python -m experiments.train with the same config)")
    for seed in config.seeds:
        run_dir, out = workdir.fb_run(seed), os.path.join(_OUT.value, f"seed_{seed}")
        meta = export_fb(run_dir, out, _STEP.value, command)
        size = os.path.getsize(os.path.join(out, "params.msgpack")) / 1e6
        print(f"[export] seed {seed}: step {meta['step']} of {run_dir} -> {out} ({size:.1f} MB, "
              f"digest {meta['digest'][:16]})", flush=True)


if __name__ == "__main__":
    run(main)
