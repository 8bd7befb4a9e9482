#!/usr/bin/env bash
# Configures and builds rimlab (Release) in build/, with warnings as errors.
# Usage: scripts/build.sh [extra cmake -D options...]; BUILD_DIR and JOBS override the defaults,
# and TARGETS (space-separated) builds only those targets instead of everything.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DRIMLAB_WERROR=ON "$@" >/dev/null
targets=()
for t in ${TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j "$jobs" "${targets[@]}"
