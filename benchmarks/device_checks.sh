#!/bin/bash
# The GPU checks, as one script for the lent accelerator (see benchmarks/results/README.md).
# Expects the wheels of mujoco, mujoco-mjx, playground (no deps), ml_collections and their small
# deps in .whl/, and writes what it measures to $OUT:
#   collect_gpu.jsonl   collection throughput at 1024 and 8192 environments, every domain
#   zol_gpu.jsonl       ZOL search, full-size network, P = 1 and 64 prompts
#   fb_update_gpu.jsonl FB update speed, full-size networks, batch 1024
#   walker.log / walker_results.md / walker_results.json   the walker pipeline, sized to the
#                       measured update speed so the whole script ends inside 10 minutes
set -u
source benchmarks/device_setup.sh
LOG="$OUT/walker.log"
{
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
  python3 -c "import jax, mujoco; import fbjax.envs as e; print('jax', jax.__version__, \
jax.devices(), 'mujoco', mujoco.__version__, 'walker obs', e.make('walker').obs_dim)"
} > "$LOG" 2>&1
echo "== collect" >> "$LOG"
timeout 170 python3 benchmarks/collect.py --envs=1024,8192 --steps=200 --repeats=2 \
  > "$OUT/collect_gpu.jsonl" 2>> "$LOG"
echo "== zol" >> "$LOG"
timeout 50 python3 benchmarks/zol_search.py --size=full --prompts=1,64 --steps=100 \
  > "$OUT/zol_gpu.jsonl" 2>> "$LOG"
echo "== fb_update" >> "$LOG"
timeout 90 python3 benchmarks/fb_update.py --batch=1024 --steps=50 --agree_steps=0 \
  > "$OUT/fb_update_gpu.jsonl" 2>> "$LOG"
STEPS=$(python3 -c "
import json
try:
    rate = json.loads(open('$OUT/fb_update_gpu.jsonl').read().strip().splitlines()[0]
                      )['updates_per_s']
except Exception:
    rate = 100.0
print(int(max(10_000, min(300_000, rate * 80)) // 5000 * 5000))")
echo "== walker pipeline with $STEPS FB updates" >> "$LOG"
timeout 330 python3 -m experiments.pipeline --config=experiments/configs/walker.py \
  --config.workdir=/tmp/walker --config.train.num_steps="$STEPS" \
  --config.train.save_every="$STEPS" --config.oracle.train.num_steps=20000 --config.oracle.td3.hidden=256 --config.eval.num_episodes=5 \
  --config.seeds="(0,)" >> "$LOG" 2>&1
echo "== pipeline exit $?" >> "$LOG"
cp /tmp/walker/report/results.md "$OUT/walker_results.md" 2>/dev/null
cp /tmp/walker/eval/results.json "$OUT/walker_results.json" 2>/dev/null
exit 0
