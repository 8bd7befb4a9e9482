#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs a small study: PPO with a RIM core
# against PPO with an LSTM core on balls_touch with the balls as numbers (configs/studies/
# balls_touch.yaml), 2 seeds each, 1M frames, trained on `train` (3 balls) and evaluated on
# `train`, `more` (6 balls), `faster` and `novel` (unseen colours); prints the table with 95%
# intervals, the report's sentences and what the RIM units respond to (report and plots:
# studies/main/). About 7 minutes after the build on 2 cores. The RIM paper's own task is the
# larger study configs/studies/distractors.yaml (about an hour).
# Usage: scripts/run.sh [rimlab compare options]
#   e.g. --frames N (training frames per run), --seeds N, --episodes N (per split), --out DIR,
#   --jobs N. A small run, as CI does it: scripts/run.sh --frames 20000 --episodes 50 --out DIR
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
# The study's cells are ordinary training runs under studies/main/cells/; run again to resume a
# stopped study (finished cells are skipped) or to print the report of a finished one.
seeds=(--seeds 2)
out=(--out studies/main)
for a in "$@"; do
  case "$a" in
    --seeds|--seeds=*) seeds=() ;;
    --out|--out=*) out=() ;;
  esac
done
build/rimlab compare configs/studies/balls_touch.yaml "${seeds[@]}" "${out[@]}" "$@"
