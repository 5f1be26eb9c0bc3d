#!/bin/bash
# Issue 14's accelerator checks, as one script (<= 9 minutes) for a lent GPU. Same set-up as
# device_checks.sh (wheels in .whl/), results to $OUT:
#   profile_gpu.jsonl    FB update's program: updates/s, GFLOP/update, achieved TFLOP/s, MFU (TF32
#                        dense), fusions and kernels, full-size walker config at batch 1024 and
#                        4096 in float32, plus a profiler trace
#   fb_update_gpu.jsonl  benchmarks/fb_update.py at batch 1024 and 4096: float32 and bfloat16
#                        matmuls (MFU against TF32 / BF16 dense) and their agreement
#   zol_gpu.jsonl        ZOL search, full-size network, P = 1, 64, 512 vs step-by-step dispatch
#   evaluator_gpu.jsonl  evaluator env steps/s, point mass and walker, 1024-8192 parallel episodes
set -u
source benchmarks/device_setup.sh
LOG="$OUT/throughput.log"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$LOG" 2>&1
echo "== profile" >> "$LOG"
timeout 120 python3 benchmarks/profile_update.py --config=walker --batch=1024,4096 \
  --steps=200 --repeats=3 --trace="$OUT/trace" > "$OUT/profile_gpu.jsonl" 2>> "$LOG"
echo "== fb_update" >> "$LOG"
timeout 130 python3 benchmarks/fb_update.py --batch=1024,4096 --steps=200 --repeats=3 \
  > "$OUT/fb_update_gpu.jsonl" 2>> "$LOG"
echo "== zol" >> "$LOG"
timeout 100 python3 benchmarks/zol_search.py --size=full --prompts=1,64,512 --steps=100 \
  > "$OUT/zol_gpu.jsonl" 2>> "$LOG"
echo "== evaluator" >> "$LOG"
timeout 80 python3 benchmarks/evaluator.py --domain=point_mass --prompts=8,64 --episodes=128 \
  --length=1000 > "$OUT/evaluator_gpu.jsonl" 2>> "$LOG"
timeout 110 python3 benchmarks/evaluator.py --domain=walker --prompts=8,64 --episodes=128 \
  --length=1000 >> "$OUT/evaluator_gpu.jsonl" 2>> "$LOG"
exit 0
