#!/usr/bin/env bash
# Two builds of Attune side by side on the same workloads (MKL), alternating process by process, so that a change
# can be judged against the build before it on the same machine in the same minutes.
#
#   bench/compare-builds.sh [--reps N] [--threads N] [--out DIR] [--args 'BENCH OPTIONS'] BEFORE_REPO AFTER_REPO WORKLOAD...
#
# --args goes to both builds' `attune bench` (e.g. --args '--warmup 100 --iters 200' where their defaults differ).
# Each REPO is a checkout whose jar is built (mvn -B -q -DskipTests package). Writes DIR/results.jsonl (each line
# with "build": "before" or "after"), DIR/machine.txt (both commits, load average) and DIR/table.md (medians,
# spreads and after/before ratios of throughput and peak RSS).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
reps=3
threads="$(nproc)"
out=""
bench_args=""
while [[ $# -gt 0 && "$1" == --* ]]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --args) bench_args="$2"; shift 2 ;;
    *) echo "compare-builds.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $# -ge 3 ]] || { sed -n '2,11p' "$0"; exit 2; }
before="$(cd "$1" && pwd)"; after="$(cd "$2" && pwd)"; shift 2
workloads=("$@")
out="${out:-$here/out/compare-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
for b in before after; do
  repo="$before"; [[ $b == after ]] && repo="$after"
  [[ -f "$repo/examples/target/attune-examples.jar" ]] || { echo "no jar in $repo: build it first" >&2; exit 2; }
  mkdir -p "$out/$b"
  cp -r "$repo/examples/target/attune-examples.jar" "$repo/examples/target/lib" "$out/$b/"
done
export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" ATTUNE_THREADS="$threads" ATTUNE_BLAS=mkl
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "before: $(git -C "$before" rev-parse HEAD)"
  echo "after: $(git -C "$after" rev-parse HEAD)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) cores; threads: $threads"
  echo "bench options: ${bench_args:-(defaults of each build)}"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/machine.txt"
for ((rep = 1; rep <= reps; rep++)); do
  for w in "${workloads[@]}"; do
    order=(before after); (( rep % 2 == 0 )) && order=(after before)
    for b in "${order[@]}"; do
      echo "compare-builds.sh: rep $rep/$reps $w $b" >&2
      line="$(java -Xmx8g --add-modules jdk.incubator.vector -jar "$out/$b/attune-examples.jar" bench "$w" $bench_args 2>/dev/null | tail -1)" || true
      [[ "$line" == "{"* ]] && python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["build"]=sys.argv[2]; print(json.dumps(d))' "$line" "$b" >> "$results" \
        || echo "compare-builds.sh: $b $w failed" >&2
    done
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"
python3 - "$results" <<'PY' | tee "$out/table.md"
import json, statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for raw in open(sys.argv[1]):
    d = json.loads(raw)
    runs[(d["workload"], d["build"])].append(d)
print("| workload | unit | before | after | after / before (throughput) | peak RSS MiB before | after |")
print("|---|---|---|---|---|---|---|")
for w in dict.fromkeys(k[0] for k in runs):
    b, a = runs.get((w, "before"), []), runs.get((w, "after"), [])
    def cell(ls, key="value"):
        v = [l[key] for l in ls if l.get(key) is not None]
        return (statistics.median(v), min(v), max(v)) if v else None
    cb, ca = cell(b), cell(a)
    fmt = lambda c: "-" if c is None else f"{c[0]:,.1f} ({c[1]:,.1f}-{c[2]:,.1f})"
    ratio = f"{ca[0] / cb[0]:.2f}x" if cb and ca else "-"
    rb, ra = cell(b, "peak_rss_mb"), cell(a, "peak_rss_mb")
    unit = (a or b)[0].get("unit", "")
    print(f"| {w} | {unit} | {fmt(cb)} | {fmt(ca)} | {ratio} | {rb[0]:,.0f} | {ra[0]:,.0f} |" if rb and ra
          else f"| {w} | {unit} | {fmt(cb)} | {fmt(ca)} | {ratio} | - | - |")
PY
