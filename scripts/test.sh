#!/usr/bin/env bash
# Installs what is missing, builds, and runs the tests: the Release build with every unit test,
# then an ASan+UBSan build and a TSan build of the torch-free tests (envs, pool, config, CLI).
# Learning checks carry the ctest label `slow` and run only with --slow.
# Usage: scripts/test.sh [--quick] [--slow]
#   --quick  the Release tests only (no sanitizer builds)
#   --slow   also run the tests labelled slow
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
label_args=(-LE slow)
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    --slow) label_args=() ;;
    *) echo "usage: scripts/test.sh [--quick] [--slow]" >&2; exit 2 ;;
  esac
done
jobs=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
start=$SECONDS
# Each stage's elapsed time goes into the log: CI has a time budget and this shows where it goes.
stage() { echo "== [$((SECONDS - start)) s] $*"; }

scripts/setup.sh
stage "Release build"
BUILD_DIR=build scripts/build.sh
stage "Release tests"
(cd build && ctest --output-on-failure -j "$jobs" "${label_args[@]}")

[ "$quick" = 1 ] && { stage "Release tests passed"; exit 0; }

# The sanitizer builds are Debug (-O0 -g, asserts on): with ASan and UBSan, -O2 made each test
# file take 5x longer to compile (777 s for this stage in CI, against about 160 s), while the
# tests run in seconds either way.
stage "ASan + UBSan build (torch-free tests)"
BUILD_DIR=build-asan TARGETS=rimlab_tests scripts/build.sh -DRIMLAB_WITH_TORCH=OFF \
  -DCMAKE_BUILD_TYPE=Debug -DRIMLAB_SANITIZE=address,undefined
stage "ASan + UBSan tests"
(cd build-asan && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --output-on-failure -j "$jobs" "${label_args[@]}")

stage "TSan build (actor pool tests)"
BUILD_DIR=build-tsan TARGETS="test_actor_pool test_actor_pool_alloc" scripts/build.sh \
  -DRIMLAB_WITH_TORCH=OFF -DCMAKE_BUILD_TYPE=Debug -DRIMLAB_SANITIZE=thread
stage "TSan tests"
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -R pool "${label_args[@]}")
stage "all tests passed"
