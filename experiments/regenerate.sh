#!/usr/bin/env bash
# Regenerates the CPU results that README and docs/ quote, from the current commit, each with a
# provenance.json (commit, command, device, versions) written before its run starts:
#   experiments/results/point_mass_maze/  the main command (python -m experiments.pipeline)
#   experiments/results/point_mass/   the open arena (experiments/configs/point_mass.py)
#   experiments/results/tabular_*     the finite-MDP ground truth (experiments.train, tabular.py),
#                                     float32 and bfloat16 matmuls
#   experiments/results/point_mass_maze_td3/  the maze with z_dim 32 and TD3 beside the navigator
#   experiments/results/point_mass_maze_sequential/  the main command's four seeds, one
#                                     process
# (experiments/results/*_b128/ keep the previous default's two layouts; they are not rerun)
# and the studies' results (studies/NAME/results/, each study's README says what it measures):
#   ope_validation, ratio_accuracy, learning_curve (FB on the maze's development goals),
#   reward_coverage, rnd_coverage, dynamics_drift, reward_agreement, cpu_stall
# About three hours on 2 CPU cores. Runs go to a scratch folder (default
# /tmp/fbjax_regenerate).
# Benchmarks (benchmarks/results/), GPU runs (walker_h200/, walker_study_h100/) and the maze's
# settings selection (studies/maze_selection/) are made by their own scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${1:-/tmp/fbjax_regenerate}
OUT=experiments/results
study() { echo "studies/$1/results"; }  # study NAME: where that study's results are committed
rm -rf "$SCRATCH" && mkdir -p "$SCRATCH"

run() {  # run NAME COMMAND...: provenance, then the command with its log and wall time
  local name=$1; shift
  python -m fbjax.provenance --command "$*" > "$SCRATCH/$name.provenance.json"
  local start=$SECONDS
  "$@" 2>&1 | tee "$SCRATCH/$name.log"
  echo "wall time $((SECONDS - start)) s" | tee -a "$SCRATCH/$name.log"
}

publish() {  # publish NAME WORKDIR DEST: a pipeline run's log, provenance, tables and figures
  mkdir -p "$3"
  cp "$SCRATCH/$1.log" "$3/pipeline.log"
  cp "$SCRATCH/$1.provenance.json" "$3/provenance.json"
  cp "$2"/report/{results.md,summary.json} "$2"/report/*.png "$2"/report/*.pdf "$3/"
  rm -f "$3/bars.png"  # the figure before oracle-normalised scores replaced it
  cp "$2/eval/results.json" "$3/results.json"
  cp "$2/fb/seed_0/config.json" "$3/fb_config.json"  # the FB settings and dataset it trained on
  rm -f "$3/report_provenance.json"  # a later re-render's record; this run's tables are its own
}

# The main command: the point-mass maze.
run pipeline python -m experiments.pipeline --config.workdir="$SCRATCH/point_mass_maze"
publish pipeline "$SCRATCH/point_mass_maze" "$OUT/point_mass_maze"

# The open arena (the main command until the maze took its place; the OPE study uses it).
run point_mass python -m experiments.pipeline --config=experiments/configs/point_mass.py \
    --config.workdir="$SCRATCH/point_mass"
publish point_mass "$SCRATCH/point_mass" "$OUT/point_mass"

# The study reuses the pipeline's dataset and FB runs; its JSON embeds its own provenance.
run ope_validation python -m studies.ope_validation --config=experiments/configs/point_mass.py \
    --config.workdir="$SCRATCH/point_mass" --out="$(study ope_validation)"
cp "$SCRATCH/ope_validation.log" "$(study ope_validation)/ope_validation.log"

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

run ratio_accuracy python -m studies.ratio_accuracy --config.workdir="$SCRATCH/ratio_accuracy"
cp "$SCRATCH/ratio_accuracy.log" "$(study ratio_accuracy)/ratio_accuracy.log"
cp "$SCRATCH/ratio_accuracy.provenance.json" "$(study ratio_accuracy)/ratio_accuracy_provenance.json"
cp "$SCRATCH"/ratio_accuracy/ratio_accuracy.{json,md,png} "$(study ratio_accuracy)/"
# The main command's four seeds trained one after another in one process: the same runs up to
# floating-point summation order (experiments/results/point_mass_maze_sequential/).
mkdir -p "$SCRATCH/maze_sequential"
ln -s "$SCRATCH/point_mass_maze/dataset" "$SCRATCH/maze_sequential/dataset"
run maze_sequential python -m experiments.pipeline --config.workdir="$SCRATCH/maze_sequential" \
    --config.train.parallel=single
publish maze_sequential "$SCRATCH/maze_sequential" "$OUT/point_mass_maze_sequential"
python -m studies.process_layouts  # the two layouts side by side
# The maze with z_dim 32 and TD3 beside the navigator, on the main command's data: TD3 is no
# oracle there (experiments/results/point_mass_maze_td3/).
mkdir -p "$SCRATCH/maze_td3" && ln -s "$SCRATCH/point_mass_maze/dataset" "$SCRATCH/maze_td3/dataset"
run maze_td3 python -m experiments.pipeline --config.workdir="$SCRATCH/maze_td3" \
    --config.fb.z_dim=32 --config.eval.methods=fb,zol_published,zol_selected,rwr,td3,navigator,random
publish maze_td3 "$SCRATCH/maze_td3" "$OUT/point_mass_maze_td3"
# FB's learning curves on the maze's development goals with a development seed, on the same data
# (each JSON embeds its own provenance): the settings the default was chosen from (about 5
# minutes each), and z_dim 32 to 60k updates (about 10 minutes).
curve() {  # curve NAME FLAGS...; pinned to one core with CORE=N, on another dataset with DATA=
  local name=$1; shift
  mkdir -p "$SCRATCH/curve_$name"
  ln -s "${DATA:-$SCRATCH/point_mass_maze/dataset}" "$SCRATCH/curve_$name/dataset"
  run "curve_$name" ${CORE:+taskset -c "$CORE"} python -m studies.learning_curve \
      --config.workdir="$SCRATCH/curve_$name" --out="$(study learning_curve)/learning_curve_$name" "$@"
}
DEV=--checkpoints=10000,20000,30000,40000
curve dev_z32 $DEV --config.fb.z_dim=32
curve dev_z32_published_rates $DEV --config.fb.z_dim=32 --config.fb.lr_forward=1e-4 \
    --config.fb.lr_backward=1e-6 --config.fb.lr_actor=1e-6
curve dev_z100 $DEV
curve dev_z32_lr1e-3 $DEV --config.fb.z_dim=32 --config.fb.lr_forward=1e-3 \
    --config.fb.lr_backward=1e-3 --config.fb.lr_actor=1e-3
curve z32_60k --checkpoints=2500,5000,10000,20000,40000,60000 --config.fb.z_dim=32
# Reward inference beside the goal prompt B(goal), development seeds 100-102, and target tau 0.05:
# two curves at a time, each pinned to one core as the main command's seeds train (about 9
# minutes a pair).
CORE=0 curve dev_z100_prompts --checkpoints=10000,20000,40000 &
CORE=1 curve dev_z100_tau0.05 --checkpoints=10000,20000,40000 --config.fb.tau=0.05 &
wait
CORE=0 curve dev_z100_seed101 --seed=101 --checkpoints=20000 &
CORE=1 curve dev_z100_seed102 --seed=102 --checkpoints=20000 &
wait
# The default to 100k updates (about 15 minutes).
curve dev_z100_100k --checkpoints=20000,40000,60000,80000,100000
# The same two seeds on data whose episodes start all over the maze (collect.start=anywhere).
mkdir -p "$SCRATCH/maze_anywhere"
run collect_anywhere python -m experiments.collect --config.workdir="$SCRATCH/maze_anywhere" \
    --config.collect.start=anywhere
ANYWHERE=--config.collect.start=anywhere
DATA="$SCRATCH/maze_anywhere/dataset" CORE=0 curve dev_z100_anywhere $ANYWHERE \
    --checkpoints=20000 &
DATA="$SCRATCH/maze_anywhere/dataset" CORE=1 curve dev_z100_anywhere_seed101 $ANYWHERE \
    --seed=101 --checkpoints=20000 &
wait
# How many rewarded transitions each task has in the data and in reward inference's sample.
run reward_coverage python -m studies.reward_coverage --config.workdir="$SCRATCH/point_mass_maze"
run reward_coverage_anywhere python -m studies.reward_coverage \
    --config.workdir="$SCRATCH/maze_anywhere" --config.collect.start=anywhere \
    --out="$(study reward_coverage)/reward_coverage_point_mass_maze_anywhere"

# Its JSON embeds its own provenance.
run rnd_coverage python -m studies.rnd_coverage
run rnd_coverage_maze python -m studies.rnd_coverage --domain=point_mass_maze \
    --variants=noise,rnd_between_episodes,rnd_segments_100_preact_0.1
run rnd_coverage_maze_64 python -m studies.rnd_coverage \
    --domain=point_mass_maze --episodes=64 --variants=rnd_segments_100_preact_0.1,\
rnd_segments_100_preact_0.1_noise_0.5,rnd_segments_100_preact_0.1_updates_2000,\
rnd_segments_25_preact_0.1
# Each embeds its own provenance.
run dynamics_drift python -m studies.dynamics_drift
run reward_agreement python -m studies.reward_agreement
run cpu_stall python -m studies.cpu_stall
run cpu_stall_humanoid python -m studies.cpu_stall --domain=humanoid --sizes=64x100 \
    --out="$(study cpu_stall)/cpu_stall_humanoid.json"
echo "regenerated $OUT and studies/*/results from $(git rev-parse --short HEAD)"
