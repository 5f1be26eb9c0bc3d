#!/usr/bin/env bash
# Regenerates the CPU results that README quotes, from the current commit, each with a
# provenance.json (commit, command, device, versions) written before its run starts:
#   experiments/results/point_mass/   the main command (python -m experiments.pipeline)
#   experiments/results/ope_validation/  the OPE validation study on the pipeline's models
#   experiments/results/tabular_*     the finite-MDP ground truth (experiments.train, tabular.py),
#                                     float32 and bfloat16 matmuls
#   experiments/results/ratio_*       the free ratio against exact answers and DualDICE
#   experiments/results/point_mass_maze/  the maze with the main command's settings, and FB's
#                                     learning curve on its development goals
#   experiments/results/rnd_coverage* how evenly RND variants and noise cover point mass (and
#                                     the maze)
#   experiments/results/dynamics_drift.*  MJX trajectories next to DM Control's, every domain
#   experiments/results/reward_agreement.txt  per-task reward agreement with DM Control
#   experiments/results/cpu_stall*.json  which legged rollout sizes stall on this CPU
# About an hour and a quarter on 2 CPU cores. Runs go to a scratch folder (default
# /tmp/fbjax_regenerate).
# Benchmarks (benchmarks/results/) and GPU runs (walker_h200/, walker_study_h100/) are made by
# their own scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${1:-/tmp/fbjax_regenerate}
OUT=experiments/results
rm -rf "$SCRATCH" && mkdir -p "$SCRATCH" "$OUT/point_mass" "$OUT/ope_validation"

run() {  # run NAME COMMAND...: provenance, then the command with its log and wall time
  local name=$1; shift
  python -m experiments.provenance --command "$*" > "$SCRATCH/$name.provenance.json"
  local start=$SECONDS
  "$@" 2>&1 | tee "$SCRATCH/$name.log"
  echo "wall time $((SECONDS - start)) s" | tee -a "$SCRATCH/$name.log"
}

run pipeline python -m experiments.pipeline --config.workdir="$SCRATCH/point_mass"
cp "$SCRATCH/pipeline.log" "$OUT/point_mass/pipeline.log"
cp "$SCRATCH/pipeline.provenance.json" "$OUT/point_mass/provenance.json"
cp "$SCRATCH"/point_mass/report/{results.md,summary.json,bars.png,differences.png,scatter.png} \
    "$OUT/point_mass/"
cp "$SCRATCH/point_mass/eval/results.json" "$OUT/point_mass/results.json"

# The study reuses the pipeline's dataset and FB runs; its JSON embeds its own provenance.
run ope_validation python -m experiments.ope_validation --config.workdir="$SCRATCH/point_mass" \
    --out="$OUT/ope_validation"
cp "$SCRATCH/ope_validation.log" "$OUT/ope_validation/ope_validation.log"

run tabular python -m experiments.train --config=experiments/configs/tabular.py \
    --config.workdir="$SCRATCH/tabular"
cp "$SCRATCH/tabular.log" "$OUT/tabular_main.log"
cp "$SCRATCH/tabular.provenance.json" "$OUT/tabular_provenance.json"
cp "$SCRATCH/tabular/results.json" "$OUT/tabular_results.json"

# The same with bfloat16 matmuls: the learning check behind FBConfig.compute_dtype.
run tabular_bf16 python -m experiments.train --config=experiments/configs/tabular.py \
    --config.fb.compute_dtype=bfloat16 --config.workdir="$SCRATCH/tabular_bf16"
cp "$SCRATCH/tabular_bf16.log" "$OUT/tabular_bf16.log"
cp "$SCRATCH/tabular_bf16.provenance.json" "$OUT/tabular_bf16_provenance.json"
cp "$SCRATCH/tabular_bf16/results.json" "$OUT/tabular_bf16_results.json"

run ratio_accuracy python -m experiments.ratio_accuracy --config.workdir="$SCRATCH/ratio_accuracy"
cp "$SCRATCH/ratio_accuracy.log" "$OUT/ratio_accuracy.log"
cp "$SCRATCH/ratio_accuracy.provenance.json" "$OUT/ratio_accuracy_provenance.json"
cp "$SCRATCH"/ratio_accuracy/ratio_accuracy.{json,md,png} "$OUT/"
# The point-mass maze with the main command's settings on 2M RND transitions.
mkdir -p "$OUT/point_mass_maze"
run point_mass_maze python -m experiments.pipeline --config=experiments/configs/point_mass_maze.py \
    --config.workdir="$SCRATCH/point_mass_maze"
cp "$SCRATCH/point_mass_maze.log" "$OUT/point_mass_maze/pipeline.log"
cp "$SCRATCH/point_mass_maze.provenance.json" "$OUT/point_mass_maze/provenance.json"
cp "$SCRATCH"/point_mass_maze/report/{results.md,summary.json} "$OUT/point_mass_maze/"
cp "$SCRATCH/point_mass_maze/eval/results.json" "$OUT/point_mass_maze/results.json"
# FB's learning curve on the maze's development goals, a development seed, the same data
# (about 12 minutes; its JSON embeds its own provenance).
run learning_curve python -m experiments.learning_curve \
    --config=experiments/configs/point_mass_maze.py --config.workdir="$SCRATCH/point_mass_maze" \
    --checkpoints=2500,5000,10000,20000,40000,60000

# Its JSON embeds its own provenance.
run rnd_coverage python -m experiments.rnd_coverage --out="$OUT"
run rnd_coverage_maze python -m experiments.rnd_coverage --out="$OUT" --domain=point_mass_maze \
    --variants=noise,rnd_between_episodes,rnd_segments_100_preact_0.1
run rnd_coverage_maze_64 python -m experiments.rnd_coverage --out="$OUT" \
    --domain=point_mass_maze --variants=rnd_segments_100_preact_0.1 --episodes=64
# Each embeds its own provenance.
run dynamics_drift python -m experiments.dynamics_drift
run reward_agreement python -m experiments.reward_agreement
run cpu_stall python -m experiments.cpu_stall
run cpu_stall_humanoid python -m experiments.cpu_stall --domain=humanoid --sizes=64x100 \
    --out=experiments/results/cpu_stall_humanoid.json
echo "regenerated $OUT from $(git rev-parse --short HEAD)"
