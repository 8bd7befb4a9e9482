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
jobs=$(nproc)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

scripts/setup.sh
echo "== Release build"
BUILD_DIR=build scripts/build.sh
(cd build && ctest --output-on-failure -j "$jobs" "${label_args[@]}")

[ "$quick" = 1 ] && exit 0

echo "== ASan + UBSan build (torch-free tests)"
BUILD_DIR=build-asan scripts/build.sh -DRIMLAB_WITH_TORCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRIMLAB_SANITIZE=address,undefined
(cd build-asan && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --output-on-failure -j "$jobs" "${label_args[@]}")

echo "== TSan build (actor pool tests)"
BUILD_DIR=build-tsan scripts/build.sh -DRIMLAB_WITH_TORCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRIMLAB_SANITIZE=thread
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -R pool "${label_args[@]}")
