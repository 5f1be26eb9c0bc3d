#!/bin/bash
# Issue 12's accelerator part as one script for a lent GPU, sized to end inside BUDGET seconds
# (default 540): the walker study of experiments/configs/walker_study.py.
#   1. RND data: 256 environments x 8 sequential episodes (2,048,000 transitions);
#   2. FB for 4 seeds in one program for as long as the time left allows (checkpoints every
#      2 x UNIT updates; the stage is stopped RESERVE seconds before the end and evaluation takes
#      the last step every seed has saved);
#   3. TD3 oracles for every seed x task in one program, then every method on every task with
#      paired episodes (experiments.evaluate), and the report;
#   4. with the time left, seed-updates/s of the full-size FB update (batch 1024) for S = 1, 4, 8.
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
CFG=${CFG:-experiments/configs/walker_study.py}
WORK=${WORK:-/tmp/walker_study}
EXTRA=${EXTRA:-}  # more --config.X=Y flags for every stage
BENCH=${BENCH:---config=walker --batch=1024 --seeds=1,4,8 --steps=50 --repeats=2}
UNIT=${UNIT:-5000}  # the config's train.steps_per_call
RESERVE=${RESERVE:-250}  # seconds kept for loading, oracles, evaluation and the report
export JAX_COMPILATION_CACHE_DIR=/tmp/jax_cache JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0
LOG="$OUT/study.log"
left() { echo $(( BUDGET - ($(date +%s) - BEGIN) )); }
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
  echo "commit ${COMMIT:-unknown (set COMMIT when launching)}"
} > "$LOG" 2>&1
COMMON=(--config="$CFG" --config.workdir="$WORK")

run_stage collect $(( $(left) - RESERVE - 60 )) python3 -m experiments.collect "${COMMON[@]}"

# FB for as long as the time left allows: the stage is stopped (SIGINT) RESERVE seconds before
# the end, and evaluation takes the last step every seed has a checkpoint of (every SAVE updates).
SAVE=$(( 2 * UNIT ))
run_stage train $(( $(left) - RESERVE )) -s INT -k 20 python3 -m experiments.train \
  "${COMMON[@]}" --config.train.num_steps=1000000 --config.train.save_every="$SAVE"
# A training stage cut short: evaluate the last step every seed has a checkpoint of.
DONE=$(python3 - "$WORK/fb" <<'PY'
import os, sys
steps = []
for seed in sorted(os.listdir(sys.argv[1])) if os.path.isdir(sys.argv[1]) else []:
    d = os.path.join(sys.argv[1], seed)
    steps.append(max([int(s) for s in os.listdir(d) if s.isdigit()] or [0]))
print(min(steps) if steps else 0)
PY
)
echo "== FB updates trained by every seed: $DONE" >> "$LOG"
run_stage evaluate $(( $(left) - 15 )) python3 -m experiments.evaluate "${COMMON[@]}" \
  --config.train.num_steps="$DONE" --config.train.save_every="$SAVE"
run_stage report 30 python3 -m experiments.report "${COMMON[@]}" \
  --config.train.num_steps="$DONE" --config.train.save_every="$SAVE"
# Seed-updates/s for S = 1, 4, 8 with the time that is left.
if [ "$(left)" -gt 40 ]; then
  stage fb_seeds
  # shellcheck disable=SC2086
  timeout $(( $(left) - 5 )) python3 benchmarks/fb_seeds.py $BENCH > "$OUT/fb_seeds_gpu.jsonl" \
    2>> "$LOG"
fi
stage end
cp "$WORK/eval/results.json" "$WORK/report/results.md" "$WORK/report/summary.json" "$OUT/" \
  2>> "$LOG"
(cd "$WORK" && tar czf "$OUT/runs.tar.gz" dataset/manifest.json */seed_*/config.json \
  */seed_*/metrics/metrics.jsonl) 2>> "$LOG"
exit 0
