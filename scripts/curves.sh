#!/usr/bin/env bash
# Learning curves from runs' metrics.csv: success rate and mean return per bin of frames
# (episode-weighted), one column per run, as the README's tables show them; with --png FILE and
# gnuplot installed (apt-get install gnuplot-nox), also a plot of success against frames.
# Usage: scripts/curves.sh [--bin FRAMES] [--png FILE] RUN_DIR...
set -euo pipefail
bin=200000
png=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --png) png=$2; shift 2 ;;
    -h|--help) sed -n 2,5p "$0"; exit 0 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "curves: give at least one run directory" >&2; exit 2; }
for run in "$@"; do
  [ -f "$run/metrics.csv" ] || { echo "curves: $run/metrics.csv: no such file" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Per run: frames_bin_end success return, weighting each iteration by its finished episodes.
for run in "$@"; do
  awk -F, -v bin="$bin" 'NR > 1 && $5 > 0 {
      b = int(($1 - 1) / bin); n[b] += $5; s[b] += $5 * $8; r[b] += $5 * $6
      if (b > last) last = b
      if ($1 > top[b]) top[b] = $1
    }
    # A bin is labelled by its end, or by the last frame count of a partial final bin.
    END { for (b = 0; b <= last; ++b) if (n[b] > 0) printf "%d %.3f %.3f\n", (b < last ? (b + 1) * bin : top[b]), s[b] / n[b], r[b] / n[b] }' \
    "$run/metrics.csv" > "$tmp/$(basename "$run").dat"
done
printf "| frames |"
for run in "$@"; do printf " %s success (return) |" "$(basename "$run")"; done
printf "\n| --- |"
for run in "$@"; do printf " --- |"; done
printf "\n"
frames=$(cat "$tmp"/*.dat | awk '{print $1}' | sort -n | uniq)
for f in $frames; do
  printf "| %s |" "$f"
  for run in "$@"; do
    v=$(awk -v f="$f" '$1 == f {printf "%s (%s)", $2, $3}' "$tmp/$(basename "$run").dat")
    printf " %s |" "${v:--}"
  done
  printf "\n"
done
if [ -n "$png" ]; then
  command -v gnuplot > /dev/null || { echo "curves: gnuplot not installed; skipped $png" >&2; exit 0; }
  plots=""
  for run in "$@"; do
    name=$(basename "$run")
    plots+="${plots:+, }'$tmp/$name.dat' using (\$1/1e6):2 with linespoints title '$name' noenhanced"
  done
  gnuplot -e "set terminal png size 720,420; set output '$png'; set xlabel 'frames (millions)';
    set ylabel 'success rate'; set yrange [0:1]; set key bottom right; set grid; plot $plots"
fi
