#!/usr/bin/env bash
# The tiny forward+backward step with the step team on and off, alternating every 10 steps in one process
# (bench/TinyStepTeamAB.java), with the engine's threads set as for bench/run.sh.
#
#   bench/tiny-step-team-ab.sh [--threads N] [--reps N] [REPO]      (REPO: a built checkout, default this one)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
threads="$(nproc)"; reps=3
while [[ $# -gt 0 && "$1" == --* ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    *) sed -n '2,5p' "$0"; exit 2 ;;
  esac
done
repo="$(cd "${1:-$here/..}" && pwd)"
jar="$repo/examples/target/attune-examples.jar"
[[ -f "$jar" ]] || { echo "no jar in $repo: build it first" >&2; exit 2; }
classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT
javac -cp "$jar" -d "$classes" "$here/TinyStepTeamAB.java"
export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" ATTUNE_THREADS="$threads" ATTUNE_BLAS=mkl
for ((rep = 1; rep <= reps; rep++)); do
  echo "rep $rep, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  java -Xmx8g --add-modules jdk.incubator.vector -cp "$jar:$classes" TinyStepTeamAB 600 2>&1 | grep '^team'
done
