#!/bin/bash
# Issue 14's accelerator checks, as one script (<= 9 minutes) for a lent GPU. Same set-up as
# device_checks.sh (wheels in .whl/), results to $OUT:
#   profile_gpu.jsonl    FB update's program, full-size walker config at batch 1024: updates/s,
#                        GFLOP/update, achieved TFLOP/s, MFU, the HBM ceiling, fusions and
#                        kernels, and the trace's summary (op time by kind, busy fraction).
#                        float32 (TF32) under three CUDA-graph settings, each in its own process
#                        with its parameters compared; then bfloat16 matmuls, default settings
#   zol_gpu.jsonl        ZOL search, full-size network, P = 64 and 512 in one call vs the two
#                        loops (run on 64 prompts), with TFLOP/s and the one call's trace summary
#   evaluator_gpu.jsonl  evaluator env steps/s, point mass and walker, 1024-8192 parallel episodes
# Traces stay on the device (/tmp/traces); their summaries are in the JSON lines. fb_update.py's
# float32-vs-bfloat16 agreement is not repeated here (8 compiles, over 2 minutes on a GPU); its
# CPU figures are in benchmarks/results/fb_update_cpu.jsonl.
set -u
source benchmarks/device_setup.sh
LOG="$OUT/throughput.log"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$LOG" 2>&1
echo "== profile float32, CUDA-graph variants $(date +%T)" >> "$LOG"
timeout 170 python3 benchmarks/profile_update.py --config=walker --batch=1024 --steps=100 \
  --repeats=3 --xla_variants=gpu --trace=/tmp/traces/fb > "$OUT/profile_gpu.jsonl" 2>> "$LOG"
echo "== profile bfloat16 $(date +%T)" >> "$LOG"
timeout 70 python3 benchmarks/profile_update.py --config=walker --batch=1024 --steps=100 \
  --repeats=3 --compute_dtype=bfloat16 --trace=/tmp/traces/fb_bf16 \
  >> "$OUT/profile_gpu.jsonl" 2>> "$LOG"
echo "== zol $(date +%T)" >> "$LOG"
timeout 120 python3 benchmarks/zol_search.py --size=full --prompts=64,512 --loop_prompts=64 \
  --steps=100 --trace=/tmp/traces/zol > "$OUT/zol_gpu.jsonl" 2>> "$LOG"
echo "== evaluator $(date +%T)" >> "$LOG"
timeout 70 python3 benchmarks/evaluator.py --domain=point_mass --prompts=8,64 --episodes=128 \
  --length=1000 > "$OUT/evaluator_gpu.jsonl" 2>> "$LOG"
timeout 100 python3 benchmarks/evaluator.py --domain=walker --prompts=8,64 --episodes=128 \
  --length=1000 >> "$OUT/evaluator_gpu.jsonl" 2>> "$LOG"
echo "== done $(date +%T)" >> "$LOG"
exit 0
