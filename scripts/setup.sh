#!/usr/bin/env bash
# Installs the Debian packages rimlab needs, and only those that are missing. Idempotent and quiet
# when everything is present. Usage: scripts/setup.sh [--viewer]
set -euo pipefail

packages=(
  g++ cmake make pkg-config
  libtorch-dev          # LibTorch 1.13 (CPU)
  libopenblas0-openmp   # without it LibTorch falls back to reference BLAS (several times slower)
  libtcmalloc-minimal4  # malloc for the rimlab command: PPO about 10% faster than with glibc's
  libbox2d-dev          # the bouncing-balls family
  libyaml-cpp-dev       # configs
  libcli11-dev          # the command line
  nlohmann-json3-dev    # rollout output, fixtures
  catch2                # tests (v2)
  libsdl2-dev           # the viewer
  libsdl2-ttf-dev       # the viewer's text, in a real font
  fonts-dejavu-core     # that font
  libpng-dev            # screenshots and headless frames as PNG
  libgif-dev            # episodes as animated GIFs
  xvfb xauth xdotool    # the viewer's test opens a real window under Xvfb and presses keys
  libhdf5-dev           # datasets: bouncing-balls sequences (Relational-NEM's layout)
  python3-h5py          # tests read our files the way users' tools do
  gnuplot-nox           # plots: learning curves, a study's bars, prediction rollouts
  parallel              # the tested way to spread a study's cells over processes (GNU parallel)
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to apt-get install" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
