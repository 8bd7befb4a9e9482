#!/usr/bin/env bash
# The main job on a default config: installs what is missing, builds, trains a RIM policy and an
# LSTM policy with PPO on the distractors task's train split (a few minutes each on 2 cores), and
# prints their success on train and on the held-out splits side by side.
# Usage: scripts/run.sh [section.key=value ...]   (overrides apply to both trainings)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh --target rimlab 2>&1 | grep -E "error|warning|Built target rimlab$" || true
[ -x build/rimlab ] || { echo "run: the build failed; see: cmake --build build" >&2; exit 1; }
runs=()
for core in rim lstm; do
  # `train` prints the run directory it created first; remember it for the comparison.
  log=$(mktemp)
  build/rimlab train "configs/distractors_${core}.yaml" eval.episodes=0 "$@" | tee "$log"
  runs+=("$(sed -n 's/^run directory: //p' "$log" | head -1)")
  rm -f "$log"
done
echo
build/rimlab eval "${runs[@]}" --split train,more,novel,bigger --episodes 500
