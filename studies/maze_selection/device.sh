#!/bin/bash
# Issue 25 on a lent GPU: the maze default's FB settings chosen on development goals and seeds
# (studies/maze_selection/, every variant of its VARIANTS) with the default's data
# collected on the GPU first. One call, sized to end inside BUDGET seconds: the selection writes
# its results after every variant, so a call cut short keeps the variants it finished.
#   COMMIT=$(git rev-parse HEAD) BUDGET=560 bash studies/maze_selection/device.sh
# Wheels in .whl/ (mujoco, mujoco-mjx, playground, ml_collections, tensorboardX, trimesh, glfw,
# pyopengl, websockets), installed by benchmarks/device_setup.sh. Results to $OUT: selection.log,
# selection.json, selection.md, runs.tar.gz (every run's config.json and metrics).
# A CPU dry run (a few minutes) shrinks the sizes:
#   NO_WHEELS=1 OUT=/tmp/dry BUDGET=400 WORK=/tmp/dry_work SELECT="--variants=ref_rates,full_obs \
#   --checkpoints=20,40 --episodes=2 --seeds=100,101" EXTRA="--config.collect.num_envs=4 \
#   --config.collect.num_episodes=1 --config.collect.episode_length=300 \
#   --config.train.steps_per_call=20" bash studies/maze_selection/device.sh
set -u
source benchmarks/device_setup.sh
BEGIN=$(date +%s)
BUDGET=${BUDGET:-560}
WORK=${WORK:-/tmp/maze_selection}
SELECT=${SELECT:---checkpoints=2500,5000,10000,20000 --episodes=30}
EXTRA=${EXTRA:-}
export JAX_COMPILATION_CACHE_DIR=/tmp/jax_cache JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0
LOG="$OUT/selection.log"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import jax, mujoco, flax, optax; print('jax', jax.__version__, jax.devices(), \
'mujoco', mujoco.__version__, 'flax', flax.__version__, 'optax', optax.__version__)"
  echo "commit ${COMMIT:-unknown (set COMMIT when launching)}"
} >> "$LOG" 2>&1
LEFT=$(( BUDGET - ($(date +%s) - BEGIN) - 15 ))
# shellcheck disable=SC2086
timeout -s INT -k 10 "$LEFT" python3 -m studies.maze_selection \
  --config.workdir="$WORK/data" --work="$WORK/runs" --out="$OUT/selection" $SELECT $EXTRA \
  >> "$LOG" 2>&1
echo "== selection exit $? at $(( $(date +%s) - BEGIN ))s" >> "$LOG"
(cd "$WORK/runs" && find . -name config.json -o -path '*metrics*' -type f | \
  tar -czf "$OUT/runs.tar.gz" -T -) 2>> "$LOG"
