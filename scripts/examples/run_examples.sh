#!/usr/bin/env bash
# Runs the example programs in full and keeps what they print, for the numbers in examples/README.md.
#
#   scripts/examples/run_examples.sh [--out DIR] [EXAMPLE...]     # EXAMPLE: quickstart sentiment summarize qa support tagging
#
# Writes DIR/EXAMPLE.txt (the report, progress lines left out) and appends one JSON line per example to
# DIR/runs.jsonl: commit, wall and CPU seconds, load average before and after, machine, date. The numbers depend on
# the machine and on what else it runs; the reports' scores do not (seeded), up to the thread count's rounding.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out=""
examples=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) examples+=("$1"); shift ;;
  esac
done
[[ ${#examples[@]} -gt 0 ]] || examples=(quickstart sentiment summarize qa support tagging)
out="${out:-$root/bench/results/$(date -u +%Y-%m-%d)-examples}"
mkdir -p "$out"
commit="$(git -C "$root" rev-parse --short HEAD)"
dirty="$([[ -z "$(git -C "$root" status --porcelain --untracked-files=no)" ]] && echo false || echo true)"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) cores"
cd "$root"
for ex in "${examples[@]}"; do
  args=("$ex")
  case "$ex" in
    quickstart) args+=(--out "$out/runs/quickstart") ;;
    support) args+=(--replay --out "$out/runs/support") ;;
    tagging) ;;
    *) args+=(--out "$out/runs/$ex") ;;
  esac
  load_before="$(cut -d' ' -f1 /proc/loadavg)"
  t0=$(date +%s.%N)
  # progress lines end in carriage returns: keep the report, drop them
  /usr/bin/time -o "$out/time.txt" -f "%U %S" ./attune "${args[@]}" 2>&1 | tr '\r' '\n' | grep -v '^step \|^\s*$' \
    > "$out/$ex.txt"
  t1=$(date +%s.%N)
  times="$(tail -1 "$out/time.txt")"
  printf '{"example":"%s","command":"./attune %s","commit":"%s","uncommitted_changes":%s,"wall_s":%.1f,"cpu_s":%.1f,"load1_before":%s,"load1_after":%s,"cpu":"%s","date":"%s"}\n' \
    "$ex" "${args[*]}" "$commit" "$dirty" "$(echo "$t1 - $t0" | bc)" "$(echo "$times" | awk '{print $1 + $2}')" \
    "$load_before" "$(cut -d' ' -f1 /proc/loadavg)" "$cpu" "$(date -u '+%Y-%m-%d %H:%M UTC')" | tee -a "$out/runs.jsonl"
done
rm -rf "$out/runs" "$out/time.txt"
