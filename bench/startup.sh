#!/usr/bin/env bash
# Start-up time of short commands, two builds side by side (alternating, so load changes hit both alike).
#
#   bench/startup.sh [--reps N] [--out DIR] BEFORE_REPO AFTER_REPO
#
# Each REPO is a checkout whose jar is built (mvn -B -q -DskipTests package). Both run through their own `attune`
# launcher on the same small model with GPT-2's vocabulary (4 layers, 4 heads, width 128: 7.2M parameters, made
# by one step of AFTER_REPO's `attune pretrain` on the repository's README). Measured per run: wall seconds and CPU seconds (user + sys)
# of `attune --version`, `attune score --ids 1,5,9` and `attune generate --max-new-tokens 1`; the phases of one
# score-like run (bench/StartupPhases.java) on each build. Writes DIR/results.jsonl and DIR/machine.txt (with both
# commits and the load average, since start-up time depends on what else runs).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
reps=5
out=""
while [[ $# -gt 2 ]]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "startup.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $# -eq 2 ]] || { sed -n '2,11p' "$0"; exit 2; }
before="$(cd "$1" && pwd)"; after="$(cd "$2" && pwd)"
out="${out:-$here/out/startup-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
model="$out/model"
if [[ ! -f "$model/model.safetensors" ]]; then
  mkdir -p "$out/pretrain"
  cat > "$out/pretrain/config.json" <<'JSON'
{"model_type": "gpt2", "vocab_size": 50257, "n_positions": 128, "n_embd": 128, "n_layer": 4, "n_head": 4,
 "bos_token_id": 50256, "eos_token_id": 50256}
JSON
  "$after/attune" pretrain --corpus "$after/README.md" --config "$out/pretrain/config.json" --steps 1 --batch 2 \
    --context 128 --no-progress --out "$out/pretrain/run" >/dev/null
  mv "$out/pretrain/run/model" "$model"
  rm -rf "$out/pretrain"
fi
commit() { git -C "$1" rev-parse --short HEAD; }
dirty() { [[ -z "$(git -C "$1" status --porcelain --untracked-files=no)" ]] && echo false || echo true; }
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) cores"
  echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}')"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "before: $before at $(commit "$before") (uncommitted changes: $(dirty "$before"))"
  echo "after: $after at $(commit "$after") (uncommitted changes: $(dirty "$after"))"
  echo "model: $(du -sh "$model/model.safetensors" | cut -f1) safetensors, GPT-2 vocabulary, 4 layers"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/machine.txt"

measure() { # side repo name args...
  local side="$1" repo="$2" name="$3"; shift 3
  local t0 t1 cpu
  t0=$(date +%s.%N)
  /usr/bin/time -o "$out/time.txt" -f "%U %S" "$repo/attune" "$@" >/dev/null 2>&1
  cpu="$(tail -1 "$out/time.txt")"
  t1=$(date +%s.%N)
  printf '{"side":"%s","commit":"%s","command":"%s","wall_s":%.3f,"cpu_s":%.2f,"load1":%s}\n' "$side" \
    "$(commit "$repo")" "$name" "$(echo "$t1 - $t0" | bc)" "$(echo "$cpu" | awk '{print $1 + $2}')" \
    "$(cut -d' ' -f1 /proc/loadavg)" >> "$results"
}
# one untimed run each: writes the after build's class-data archive and warms the page cache
"$before/attune" score --model "$model" --ids 1,5,9 >/dev/null 2>&1
"$after/attune" score --model "$model" --ids 1,5,9 >/dev/null 2>&1
for ((rep = 1; rep <= reps; rep++)); do
  for side in before after; do
    repo="$before"; [[ $side == after ]] && repo="$after"
    measure "$side" "$repo" version --version
    measure "$side" "$repo" score score --model "$model" --ids 1,5,9
    measure "$side" "$repo" generate-1 generate --model "$model" --prompt "Licensed under the" --max-new-tokens 1
  done
done
for side in before after; do
  repo="$before"; [[ $side == after ]] && repo="$after"
  cp="$repo/examples/target/attune-examples.jar:$(ls "$repo"/examples/target/lib/*.jar | tr '\n' ':')"
  echo "phases ($side, $(commit "$repo")):" >> "$out/phases.txt"
  # as the launcher does: where JavaCPP finds the native libraries is kept in a file after the first start (a build
  # without that feature ignores the setting), so one untimed run writes it
  lookups=(-Dattune.native.lookups="$out/phases-lookups-$side.txt")
  java -Xmx8g "${lookups[@]}" -cp "$cp" "$here/StartupPhases.java" "$model" >/dev/null 2>&1 || true
  java -Xmx8g "${lookups[@]}" -cp "$cp" "$here/StartupPhases.java" "$model" >> "$out/phases.txt" 2>&1
  rm -f "$out/phases-lookups-$side.txt"
done
rm -f "$out/time.txt"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"
python3 - "$results" <<'PY' | tee "$out/table.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| command | before wall (median) | after wall (median) | after/before | before CPU | after CPU |")
print("|---|---|---|---|---|---|")
for c in dict.fromkeys(r["command"] for r in rows):
    b = [r for r in rows if r["command"] == c and r["side"] == "before"]
    a = [r for r in rows if r["command"] == c and r["side"] == "after"]
    bw, aw = statistics.median(r["wall_s"] for r in b), statistics.median(r["wall_s"] for r in a)
    bc, ac = statistics.median(r["cpu_s"] for r in b), statistics.median(r["cpu_s"] for r in a)
    print(f"| {c} | {bw:.2f} s | {aw:.2f} s | {aw / bw:.2f} | {bc:.2f} s | {ac:.2f} s |")
PY
echo "startup.sh: results in $out" >&2
