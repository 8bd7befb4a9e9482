#!/usr/bin/env bash
# The main job on a default config: installs what is missing, builds, then evaluates a random
# policy on the distractors task through the actor pool, on the train split and the three test
# splits. (The PPO trainer replaces this with a short RIM-vs-LSTM training.)
# Usage: scripts/run.sh [config] [section.key=value ...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh --target rimlab 2>&1 | grep -E "error|warning|Built target rimlab$" || true
[ -x build/rimlab ] || { echo "run: the build failed; see: cmake --build build" >&2; exit 1; }
config=${1:-configs/distractors.yaml}
shift || true
exec build/rimlab eval "$config" --policy random "$@"
