#!/bin/bash
# The FB update's structure and throughput on a lent GPU, as one script (<= 9 minutes; issue 29's
# targets in brackets). Same set-up as device_checks.sh (wheels in .whl/), results to $OUT:
#   profile_gpu.jsonl    full-size walker config at batch 1024, one seed, float32 (TF32) then
#                        bfloat16 matmuls: updates/s [>= 1,000 and >= 1,300], GFLOP/update,
#                        TFLOP/s, MFU, the HBM ceiling, the program's ops, and the trace's
#                        summary (op time by kind, busy fraction [>= 85%])
#   structure_gpu.jsonl  benchmarks/update_structure.py on the same config: fusions and kernels
#                        per update and per scan body [<= 180], with the definition the CPU
#                        figures in results/update_structure_cpu.jsonl use
#   seeds_gpu.jsonl      8 seeds in one program, bfloat16: seed-updates/s [>= 2,500]
#   zol_gpu.jsonl        ZOL search, full-size network, P = 64 in one call against the two loops
#                        on the same 64 prompts: ms per prompt [<= 6], TFLOP/s and MFU
#   evaluator_gpu.jsonl  evaluator env steps/s on walker, 8 and 64 prompts x 128 episodes
# Not measured here: the walker study's evaluation as one program [<= 90 s] (issue 29 item 5 is
# not built; device_walker_study.sh times the study's evaluation as it runs today).
# Traces stay on the device (/tmp/traces); their summaries are in the JSON lines.
set -u
source benchmarks/device_setup.sh
LOG="$OUT/throughput.log"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$LOG" 2>&1
for dtype in float32 bfloat16; do
  echo "== profile $dtype $(date +%T)" >> "$LOG"
  timeout 80 python3 benchmarks/profile_update.py --config=walker --batch=1024 --steps=100 \
    --repeats=3 --compute_dtype=$dtype --trace=/tmp/traces/fb_$dtype \
    >> "$OUT/profile_gpu.jsonl" 2>> "$LOG"
done
echo "== structure $(date +%T)" >> "$LOG"
timeout 60 python3 benchmarks/update_structure.py --configs=walker --rounds=1 --steps=100 \
  --repeats=3 > "$OUT/structure_gpu.jsonl" 2>> "$LOG"
echo "== seeds $(date +%T)" >> "$LOG"
timeout 70 python3 benchmarks/fb_seeds.py --config=walker --batch=1024 --seeds=8 --plain=0 \
  --steps=50 --compute_dtype=bfloat16 > "$OUT/seeds_gpu.jsonl" 2>> "$LOG"
echo "== zol $(date +%T)" >> "$LOG"
timeout 110 python3 benchmarks/zol_search.py --size=full --prompts=64 --loop_prompts=64 \
  --steps=100 --trace=/tmp/traces/zol > "$OUT/zol_gpu.jsonl" 2>> "$LOG"
echo "== evaluator $(date +%T)" >> "$LOG"
timeout 100 python3 benchmarks/evaluator.py --domain=walker --prompts=8,64 --episodes=128 \
  --length=1000 > "$OUT/evaluator_gpu.jsonl" 2>> "$LOG"
echo "== done $(date +%T)" >> "$LOG"
exit 0
