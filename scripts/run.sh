#!/usr/bin/env bash
# The main job: installs what is missing, builds, trains a RIM policy and an LSTM policy with PPO
# on the distractors task's train split (a few minutes each on 2 cores), and prints their success
# on train and on the held-out splits side by side.
# Usage: scripts/run.sh [section.key=value ...]
#   Overrides apply to both trainings; eval.episodes=N sets the final evaluation's episodes per
#   split (default 500). A small run, as CI does it: scripts/run.sh total_frames=20000 eval.episodes=50
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
log=build/build-rimlab.log
mkdir -p build
echo "run: building rimlab (the first build takes about 10 minutes; log: $log)"
# The build's own status decides: with a failed build nothing below runs, so an older
# build/rimlab can never stand in for the current sources.
if ! scripts/build.sh --target rimlab -DRIMLAB_WITH_TORCH=ON >"$log" 2>&1; then
  grep -E "error|Error" "$log" | head -40 >&2 || true
  tail -n 20 "$log" >&2
  echo "run: the build failed (full log: $log)" >&2
  exit 1
fi
eval_episodes=500
train_args=()
for a in "$@"; do
  case "$a" in
    eval.episodes=*) eval_episodes=${a#eval.episodes=} ;;
    *) train_args+=("$a") ;;
  esac
done
runs=()
for core in rim lstm; do
  # `train` prints the run directory it created first; remember it for the comparison.
  out=$(mktemp)
  build/rimlab train "configs/distractors_${core}.yaml" eval.episodes=0 "${train_args[@]}" | tee "$out"
  runs+=("$(sed -n 's/^run directory: //p' "$out" | head -1)")
  rm -f "$out"
  [ -n "${runs[-1]}" ] || { echo "run: training printed no run directory" >&2; exit 1; }
done
echo
build/rimlab eval "${runs[@]}" --split train,more,novel,bigger --episodes "$eval_episodes"
