#!/bin/bash
# Issue 12's accelerator part for a lent GPU: the walker study of
# experiments/configs/walker_study.py, each call sized to end inside BUDGET seconds.
#   collect   RND data: 256 environments x 8 sequential episodes (2,048,000 transitions);
#   train     FB for 4 seeds in one program for as long as the call allows: it stops itself
#             (train.max_seconds) and saves about RESERVE seconds before the end (SIGINT at
#             RESERVE is a backstop); checkpoints every 2 x UNIT updates;
#   oracle    TD3 oracles for every seed x task in one program;
#   evaluate  every method on every task with paired episodes, at the last step every seed has
#             saved (results.json is rewritten after each seed, so a cut-short evaluation keeps
#             the seeds it finished);
#   report    results.md and summary.json;
#   export    (only when named in STAGES; before evaluate) every seed's inference checkpoint
#             at that step, brought back as models.tar.part-NN when it fits the lease's limits;
#   fb_seeds  seed-updates/s of the full-size FB update (batch 1024) for S = 1, 4, 8.
# STAGES picks the stages (all but export by default). A 15-minute lease runs it as two calls on
# the same machine, the second started at once (the machine stays warm ~30 s; /tmp survives),
# its BUDGET the lease's budget_left_s (in the first call's reply) less about 30 s:
#   COMMIT=... BUDGET=540 RESERVE=130 STAGES="collect train oracle" bash experiments/device_walker_study.sh
#   COMMIT=... BUDGET=... STAGES="evaluate report" NO_WHEELS=1 PYTHONPATH=/tmp/site bash experiments/device_walker_study.sh
# Measured on an H200 (2026-11-27, experiments/results/walker_study_h200/README.md): the machine
# started in ~30 s; collect 139 s; training 168 s for 30k updates per seed; 20k-update oracles
# 41 s (100k now: allow ~100 s, hence RESERVE=130); the evaluation of 4 seeds 245 s (seed 0
# 138 s with its compiles, then ~27 s a seed); report 7 s; fb_seeds (S = 1, 4, 8) 98 s.
# Same set-up as the other device scripts (wheels in .whl/, benchmarks/device_setup.sh). Results
# to $OUT: study.log, fb_seeds_gpu.jsonl, results.json, results.md, summary.json and
# runs.tar.gz (every run's config.json and metrics.jsonl, the dataset manifest).
# A CPU dry run (about 4 minutes) shrinks every size:
#   NO_WHEELS=1 OUT=/tmp/dry BUDGET=230 RESERVE=120 UNIT=10 WORK=/tmp/dry_work \
#   BENCH="--config=point_mass --batch=32 --seeds=1,2 --steps=5 --repeats=1" \
#   EXTRA="$(cat experiments/configs/walker_study_dry_run.flags)" \
#   bash experiments/device_walker_study.sh
set -u
source benchmarks/device_setup.sh
BEGIN=$(date +%s)
BUDGET=${BUDGET:-540}
STAGES=${STAGES:-collect train oracle evaluate report fb_seeds}
CFG=${CFG:-experiments/configs/walker_study.py}
WORK=${WORK:-/tmp/walker_study}
EXTRA=${EXTRA:-}  # more --config.X=Y flags for every stage
BENCH=${BENCH:---config=walker --batch=1024 --seeds=1,4,8 --steps=50 --repeats=2}
UNIT=${UNIT:-5000}  # the config's train.steps_per_call
RESERVE=${RESERVE:-250}  # seconds the call keeps after FB training for the stages after it
export JAX_COMPILATION_CACHE_DIR=/tmp/jax_cache JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0
LOG="$OUT/study.log"
left() { echo $(( BUDGET - ($(date +%s) - BEGIN) )); }
want() { [[ " $STAGES " == *" $1 "* ]]; }
stage() { echo "== $1 at $(( $(date +%s) - BEGIN ))s ($(left)s left)" >> "$LOG"; }
run_stage() {  # name, seconds it may take, [timeout options], command...
  local name=$1 limit=$2; shift 2
  local opts=()
  while [[ $1 == -* ]]; do opts+=("$1" "$2"); shift 2; done
  stage "$name"
  # shellcheck disable=SC2086
  timeout "${opts[@]}" "$limit" "$@" $EXTRA >> "$LOG" 2>&1
  echo "== $name exit $?" >> "$LOG"
}
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import jax, mujoco, flax, optax, orbax.checkpoint as o; print('jax', \
jax.__version__, jax.devices(), 'mujoco', mujoco.__version__, 'flax', flax.__version__, \
'optax', optax.__version__, 'orbax', o.__version__)"
  echo "commit ${COMMIT:-unknown (set COMMIT when launching)}; stages: $STAGES"
} >> "$LOG" 2>&1
COMMON=(--config="$CFG" --config.workdir="$WORK")
SAVE=$(( 2 * UNIT ))

if want collect; then
  run_stage collect $(( $(left) - RESERVE - 60 )) python3 -m experiments.collect "${COMMON[@]}"
fi
if want train; then
  # Training stops itself after the call during which TRAIN_S seconds have passed and saves that
  # step (train.max_seconds); the timeout is a backstop only. TRAIN_S leaves room for the start
  # (imports, loading the data), one more call of UNIT updates and the final save.
  TRAIN_S=$(( $(left) - RESERVE - ${TRAIN_MARGIN:-55} ))
  run_stage train $(( $(left) - RESERVE )) -s INT -k 20 python3 -m experiments.train \
    "${COMMON[@]}" --config.train.num_steps=1000000 --config.train.save_every="$SAVE" \
    --config.train.max_seconds="$TRAIN_S"
fi
if want oracle; then
  run_stage oracle $(( $(left) - 5 )) python3 -m experiments.train --what=oracle "${COMMON[@]}"
fi
# The last step every seed has an intact checkpoint of (training is stopped by the clock, maybe
# in the middle of a save; a damaged step is set aside when evaluation restores).
DONE=$(python3 - "$WORK/fb" <<'PY' 2>> "$LOG"
import os, sys
from fbjax.train.checkpoint import Checkpointer
steps = []
for seed in sorted(os.listdir(sys.argv[1])) if os.path.isdir(sys.argv[1]) else []:
    c = Checkpointer(os.path.join(sys.argv[1], seed), max_to_keep=None)
    steps.append(next((s for s in reversed(c.all_steps()) if c.check(s) is None), 0))
print(min(steps) if steps else 0)
PY
)
echo "== FB updates saved by every seed: $DONE" >> "$LOG"
STEPS_FLAGS=(--config.train.num_steps="$DONE" --config.train.save_every="$SAVE")
if want export; then
  # Before the evaluation, which may run out of time: inference checkpoints (F, B and the
  # actor at step DONE, digest and provenance) for every seed, to prompt and evaluate
  # elsewhere with --config.fb_from (experiments/export.py).
  run_stage export 90 python3 -m experiments.export "${COMMON[@]}" --out="$WORK/models" \
    --step="$DONE"
fi
if want evaluate; then
  run_stage evaluate $(( $(left) - 25 )) python3 -m experiments.evaluate "${COMMON[@]}" \
    "${STEPS_FLAGS[@]}"
fi
if want report; then
  run_stage report 20 python3 -m experiments.report "${COMMON[@]}" "${STEPS_FLAGS[@]}"
fi
if want fb_seeds && [ "$(left)" -gt 40 ]; then
  stage fb_seeds
  # shellcheck disable=SC2086
  timeout $(( $(left) - 5 )) python3 benchmarks/fb_seeds.py $BENCH >> "$OUT/fb_seeds_gpu.jsonl" \
    2>> "$LOG"
fi
stage end
cp "$WORK/eval/results.json" "$WORK/report/results.md" "$WORK/report/summary.json" "$OUT/" \
  2>> "$LOG"
(cd "$WORK" && tar czf "$OUT/runs.tar.gz" dataset/manifest.json */seed_*/config.json \
  */seed_*/metrics/metrics.jsonl) 2>> "$LOG"
# The exports come back as a tar in parts of at most 15 MiB (the lease returns at most 8 files,
# 16 MiB each, 64 MiB in all), only when every part fits beside what is already in $OUT.
if [ -d "$WORK/models" ]; then
  (cd "$WORK" && tar cf /tmp/models.tar models) 2>> "$LOG"
  have_files=$(find "$OUT" -type f | wc -l) have_mb=$(du -sm "$OUT" | cut -f1)
  tar_mb=$(( ($(stat -c %s /tmp/models.tar) + 1048575) / 1048576 ))
  parts=$(( (tar_mb + 14) / 15 ))
  if [ $(( have_files + parts )) -le 8 ] && [ $(( have_mb + tar_mb )) -le 62 ]; then
    split -b 15m -d /tmp/models.tar "$OUT/models.tar.part-"
    echo "== models.tar: $tar_mb MiB in $parts part(s); cat models.tar.part-* | tar x" >> "$LOG"
  else
    echo "== models.tar ($tar_mb MiB, $parts part(s)) does not fit beside $have_files file(s)," \
      "$have_mb MiB in \$OUT: not brought back; export fewer seeds" >> "$LOG"
  fi
fi
exit 0
