#!/bin/bash
# Issue 25's item 5 on a lent GPU: the point-mass maze at the references' FB settings
# (experiments/configs/point_mass_maze_reference.py: B on (x, y), z_dim 100, batch 1024, lr F 1e-4,
# B and actor 1e-6), SEEDS in one program at F and actor width WIDTH, trained for as long as the
# call allows, evaluated on the GPU against the scripted navigator, and every seed's inference
# checkpoint brought back (models.tar.part-NN) so that this machine can run the default as
# load -> prompt -> ZOL -> evaluate. It is experiments/device_walker_study.sh with the maze's
# config; see that script for the stages, BUDGET, RESERVE and the results in $OUT.
#   COMMIT=$(git rev-parse HEAD) BUDGET=540 bash experiments/device_maze_reference.sh
# or, to train longer, two calls on the warm machine (/tmp kept), the second resuming training
# and then exporting (before evaluating, which may run out of time):
#   COMMIT=... BUDGET=540 RESERVE=20 STAGES="collect train" bash experiments/device_maze_reference.sh
#   COMMIT=... BUDGET=<budget_left_s - 30> NO_WHEELS=1 PYTHONPATH=/tmp/site \
#     bash experiments/device_maze_reference.sh
# Then, on the CPU (DONE is the "FB updates saved by every seed" line of study.log):
#   cat models.tar.part-* | tar x        # models/seed_S/{params.msgpack,inference.json}
#   python -m experiments.pipeline --config=experiments/configs/point_mass_maze_reference.py \
#     --config.fb_from=models --config.seeds=0,1,2,3,4,5,6,7 --config.fb.forward_hidden=256 \
#     --config.fb.actor_hidden=256 --config.train.num_steps=DONE --config.workdir=/tmp/maze_ref
# What comes back is bounded by the lease (8 files, 16 MiB each, 64 MiB in all): an inference
# checkpoint is 2.5 MB a seed at width 256 and 27.8 MB at width 1024, the whole training state
# (targets and Adam moments too) 9.4 MB and 102 MB. So 8 seeds' exports come back at width 256,
# two at width 1024 (SEEDS=0,1), and no lease can carry a 1024-wide run's state to the next
# one: training toward 1M updates resumes only inside one lease (a second call on the warm
# machine, /tmp kept, as the walker script does).
# A CPU dry run (about 5 minutes) shrinks every size:
#   NO_WHEELS=1 OUT=/tmp/dry BUDGET=300 RESERVE=150 UNIT=10 WORK=/tmp/dry_maze SEEDS=0,1 \
#   WIDTH=32 EXTRA="$(cat experiments/configs/walker_study_dry_run.flags)" \
#   bash experiments/device_maze_reference.sh
WIDTH=${WIDTH:-256}
SEEDS=${SEEDS:-0,1,2,3,4,5,6,7}
export CFG=experiments/configs/point_mass_maze_reference.py
export WORK=${WORK:-/tmp/maze_reference}
export STAGES=${STAGES:-collect train evaluate report export}
export UNIT=${UNIT:-5000}
export RESERVE=${RESERVE:-200}
export EXTRA="--config.seeds=$SEEDS --config.fb.forward_hidden=$WIDTH \
--config.fb.actor_hidden=$WIDTH ${EXTRA:-}"
exec bash experiments/device_walker_study.sh
