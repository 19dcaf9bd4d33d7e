#!/usr/bin/env bash
# The tiny forward+backward step with the step team on and off, alternating every 10 steps in one process
# (bench/TinyStepTeamAB.java), with the engine's threads set as for bench/run.sh; with --switch CLASS#FIELD (a
# static boolean test switch, e.g. dev.attune.core.model.Ops#separatePasses) the team stays on and the switch
# alternates instead: "on" is the default path (switch false), "off" the switch set; CLASS#FIELD=ON,OFF sets a
# static long to the two values in turn.
#
#   bench/tiny-step-team-ab.sh [--threads N] [--reps N] [--switch CLASS#FIELD] [REPO]  (REPO: default this one)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
threads="$(nproc)"; reps=3; switch=""
while [[ $# -gt 0 && "$1" == --* ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --switch) switch="$2"; shift 2 ;;
    *) sed -n '2,7p' "$0"; exit 2 ;;
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
  java -Xmx8g --add-modules jdk.incubator.vector -cp "$jar:$classes" TinyStepTeamAB 600 $switch 2>&1 | grep -E '^[A-Za-z]+ +(on|off) *:'
done
