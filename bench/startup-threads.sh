#!/usr/bin/env bash
# CPU milliseconds by thread of one short command, with the JVM options `attune` uses for it and without the JIT
# settings it adds for short commands, alternating run by run (bench/StartupThreads.java).
#
#   bench/startup-threads.sh [--reps N] REPO MODEL_DIR
#
# REPO is a built checkout (its jar and class-data archive are used); the command is `score --model MODEL_DIR
# --ids 1,5,9`. Prints one line per run: variant, wall seconds, the load average, CPU ms per thread group.
set -euo pipefail
reps=3
if [[ "${1:-}" == --reps ]]; then reps="$2"; shift 2; fi
[[ $# -eq 2 ]] || { sed -n '2,8p' "$0"; exit 2; }
repo="$(cd "$1" && pwd)"; model="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$repo/examples/target/attune-examples.jar"
"$repo/attune" --version >/dev/null 2>&1  # writes the class-data archive if it is missing or stale
classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT
javac -d "$classes" "$here/StartupThreads.java"
base="-XX:SharedArchiveFile=$repo/examples/target/attune.jsa -Xlog:cds=off -Xlog:cds+dynamic=off"
base="$base --add-modules jdk.incubator.vector -Xmx8g"
c2="-XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000 -XX:Tier4CompileThreshold=150000"
c2="$c2 -XX:Tier4BackEdgeThreshold=400000"
for ((rep = 1; rep <= reps; rep++)); do
  for variant in jvm-default-jit short-command-jit; do
    opts="$base"; [[ $variant == short-command-jit ]] && opts="$c2 $base"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    line="$(java $opts -cp "$jar:$classes" StartupThreads score --model "$model" --ids 1,5,9 2>&1 >/dev/null \
      | grep '^cpu_ms')"
    t1=$(date +%s.%N)
    printf '%-18s wall_s=%.2f load1=%s %s\n' "$variant" "$(echo "$t1 - $t0" | bc)" \
      "$(cut -d' ' -f1 /proc/loadavg)" "${line#cpu_ms }"
  done
done
