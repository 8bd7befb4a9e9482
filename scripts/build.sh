#!/usr/bin/env bash
# Configures and builds rimlab (Release) in build/, with warnings as errors.
# Usage: scripts/build.sh [--target NAME]... [-DOPTION=VALUE]...
#   --target NAME   build only this target (repeatable); default: everything
#   -D...           passed to cmake's configure step
# BUILD_DIR and JOBS override the defaults; TARGETS (space-separated) adds targets too.
# Exits with the build's own status: a failed build never leaves a caller running an older binary.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
# nproc honours OMP_NUM_THREADS, which test.sh sets to 1 for the tests: without unsetting it
# here every CI build ran on one core.
jobs=${JOBS:-$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)}
configure=()
targets=()
for t in ${TARGETS:-}; do targets+=(--target "$t"); done
while [ $# -gt 0 ]; do
  case "$1" in
    --target)
      [ $# -ge 2 ] || { echo "build: --target needs a target name" >&2; exit 2; }
      targets+=(--target "$2"); shift 2 ;;
    --target=*) targets+=(--target "${1#--target=}"); shift ;;
    -D*) configure+=("$1"); shift ;;
    -h|--help) sed -n 2,7p "$0"; exit 0 ;;
    *) echo "build: unknown argument '$1' (expected --target NAME or -DOPTION=VALUE)" >&2; exit 2 ;;
  esac
done
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DRIMLAB_WERROR=ON "${configure[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs" "${targets[@]}"
