#!/usr/bin/env bash
# A study as a Slurm job array: one task per cell, every task on its own node or core, all
# writing into one study directory on a shared file system. Submit from the rimlab checkout
# (after scripts/build.sh):
#   n=$(build/rimlab compare configs/studies/distractors.yaml --list-cells | wc -l)
#   sbatch --array=1-"$n" docs/slurm_study.sh configs/studies/distractors.yaml /shared/studies/distractors
# and when the array has finished (or at any time, for the cells finished so far):
#   build/rimlab compare configs/studies/distractors.yaml --out /shared/studies/distractors --report
# A task that is preempted or times out leaves its cell's checkpoints; resubmitting the same
# array index resumes it, and a finished cell's task returns at once. Each cell locks itself
# (cells/.ID.lock), so two tasks never train the same cell.
#SBATCH --job-name=rimlab-study
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=01:00:00
#SBATCH --output=rimlab-study-%A_%a.out
set -euo pipefail
study=${1:?usage: sbatch --array=1-N docs/slurm_study.sh STUDY.yaml STUDY_DIR}
dir=${2:?usage: sbatch --array=1-N docs/slurm_study.sh STUDY.yaml STUDY_DIR}
cell=$(build/rimlab compare "$study" --list-cells | sed -n "${SLURM_ARRAY_TASK_ID}p")
[ -n "$cell" ] || { echo "no cell number ${SLURM_ARRAY_TASK_ID} in $study" >&2; exit 2; }
exec build/rimlab compare "$study" --out "$dir" --cell "$cell" --threads "${SLURM_CPUS_PER_TASK:-1}"
