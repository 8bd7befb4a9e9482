#!/usr/bin/env bash
# The viewer's cost while it waits: CPU used by rimlab_viewer in a real window under Xvfb,
# playing TARGET (a config, played by a random policy, or a run) at 4 steps/s, then paused, over
# SECONDS each (default 60). TARGET may be "--replay FILE|DIR" (a replay pauses at its end).
# Usage: bench/viewer_idle.sh [SECONDS] [TARGET]   (from the repository root, after a build)
set -euo pipefail
seconds=${1:-60}
target=${2:-configs/distractors.yaml}
viewer=${VIEWER:-build/rimlab_viewer}
[ -x "$viewer" ] || { echo "viewer_idle: build $viewer first (scripts/build.sh)" >&2; exit 2; }
command -v xvfb-run >/dev/null && command -v xdotool >/dev/null ||
  { echo "viewer_idle: needs xvfb-run and xdotool (scripts/setup.sh)" >&2; exit 2; }

inner=$(mktemp)
trap 'rm -f "$inner"' EXIT
cat >"$inner" <<INNER
set -euo pipefail
ticks() { awk '{print \$14 + \$15}' /proc/\$1/stat; }
"$viewer" $target --fps 4 >/dev/null &
pid=\$!
wid=\$(timeout 30 xdotool search --sync --onlyvisible --pid \$pid | head -1)
sleep 2
hz=\$(getconf CLK_TCK)
a=\$(ticks \$pid); sleep $seconds; b=\$(ticks \$pid)
echo "playing at 4 steps/s: \$(awk -v d=\$((b - a)) -v hz=\$hz -v s=$seconds 'BEGIN{printf "%.2f", 100 * d / hz / s}')% of a core over $seconds s"
xdotool key --window \$wid space
sleep 1
a=\$(ticks \$pid); sleep $seconds; b=\$(ticks \$pid)
echo "paused:               \$(awk -v d=\$((b - a)) -v hz=\$hz -v s=$seconds 'BEGIN{printf "%.2f", 100 * d / hz / s}')% of a core over $seconds s"
xdotool key --window \$wid q
wait \$pid
INNER
xvfb-run -a -s "-screen 0 1280x800x24" bash "$inner"
