#!/usr/bin/env bash
# How long `./attune quickstart` takes here, end to end (JVM start, training, save, reload, generation).
#
#   bench/quickstart.sh [--reps N] [--out DIR]
#
# Appends one JSON line per run to DIR/results.jsonl with the commit, the wall and CPU seconds and the load
# average before and after (the duration depends on what else the machine runs). The jar must be built.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
reps=1
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) sed -n '2,7p' "$0"; exit 2 ;;
  esac
done
out="${out:-$here/out/quickstart-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
commit="$(git -C "$root" rev-parse --short HEAD)"
dirty="$([[ -z "$(git -C "$root" status --porcelain --untracked-files=no)" ]] && echo false || echo true)"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) cores"
for ((rep = 1; rep <= reps; rep++)); do
  load_before="$(cut -d' ' -f1 /proc/loadavg)"
  t0=$(date +%s.%N)
  /usr/bin/time -o "$out/time.txt" -f "%U %S" "$root/attune" quickstart --quiet --out "$out/run" >/dev/null 2>&1
  times="$(tail -1 "$out/time.txt")"
  t1=$(date +%s.%N)
  printf '{"commit":"%s","uncommitted_changes":%s,"command":"./attune quickstart","wall_s":%.1f,"cpu_s":%.1f,"load1_before":%s,"load1_after":%s,"cpu":"%s","date":"%s"}\n' \
    "$commit" "$dirty" "$(echo "$t1 - $t0" | bc)" "$(echo "$times" | awk '{print $1 + $2}')" "$load_before" \
    "$(cut -d' ' -f1 /proc/loadavg)" "$cpu" "$(date -u '+%Y-%m-%d %H:%M UTC')" | tee -a "$out/results.jsonl"
done
rm -rf "$out/run" "$out/time.txt"
