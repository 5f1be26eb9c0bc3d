#!/bin/bash
# Issue 14's accelerator checks, as one script (<= 9 minutes) for a lent GPU. Same set-up as
# device_checks.sh (wheels in .whl/), results to $OUT:
#   profile_gpu.jsonl    FB update's program, full-size walker config at batch 1024, float32
#                        (TF32): updates/s, GFLOP/update, achieved TFLOP/s, MFU (TF32 dense), the
#                        HBM ceiling, fusions and kernels, and the trace's summary (op time by
#                        kind, busy fraction); three CUDA-graph settings, each in its own process
#   fb_update_gpu.jsonl  benchmarks/fb_update.py at batch 1024: float32 and bfloat16 matmuls (MFU
#                        against TF32 / BF16 dense) and their agreement
#   zol_gpu.jsonl        ZOL search, full-size network, P = 64 and 512 vs step-by-step dispatch,
#                        with achieved TFLOP/s and the one-call search's trace summary
#   evaluator_gpu.jsonl  evaluator env steps/s, point mass and walker, 1024-8192 parallel episodes
# Traces stay on the device (/tmp/traces); their summaries are in the JSON lines.
set -u
source benchmarks/device_setup.sh
LOG="$OUT/throughput.log"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$LOG" 2>&1
echo "== profile" >> "$LOG"
timeout 170 python3 benchmarks/profile_update.py --config=walker --batch=1024 --steps=200 \
  --repeats=3 --xla_variants=gpu --trace=/tmp/traces/fb > "$OUT/profile_gpu.jsonl" 2>> "$LOG"
echo "== fb_update" >> "$LOG"
timeout 90 python3 benchmarks/fb_update.py --batch=1024 --steps=200 --repeats=3 \
  > "$OUT/fb_update_gpu.jsonl" 2>> "$LOG"
echo "== zol" >> "$LOG"
timeout 100 python3 benchmarks/zol_search.py --size=full --prompts=64,512 --steps=100 \
  --trace=/tmp/traces/zol > "$OUT/zol_gpu.jsonl" 2>> "$LOG"
echo "== evaluator" >> "$LOG"
timeout 70 python3 benchmarks/evaluator.py --domain=point_mass --prompts=8,64 --episodes=128 \
  --length=1000 > "$OUT/evaluator_gpu.jsonl" 2>> "$LOG"
timeout 100 python3 benchmarks/evaluator.py --domain=walker --prompts=8,64 --episodes=128 \
  --length=1000 >> "$OUT/evaluator_gpu.jsonl" 2>> "$LOG"
exit 0
