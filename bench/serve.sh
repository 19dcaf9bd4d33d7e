#!/usr/bin/env bash
# Serving benchmark: `attune serve`'s server (AttuneServer, continuous batching) on 127.0.0.1 and a java.net.http
# client on the same machine: 8 completions one after another vs 8 at once (p50/p95 latency, tokens/s), then a load
# test of N clients sending back to back for S seconds (every non-200 counts as an error). Loopback only.
#
#   bench/serve.sh [--threads N] [--out FILE] [ServeBench options: --model DIR --reps 3 --max-tokens 64
#                  --load-clients 16 --load-seconds 60 --load-max-tokens 32]
#
# Without --model the server runs a randomly initialised GPT-2 small (speed does not depend on the weights).
# Writes one JSON line per measurement to FILE (default bench/out/serve-<date-time>.jsonl) and to stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
threads="$(nproc)"
out=""
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
out="${out:-$here/out/serve-$(date +%Y%m%d-%H%M%S).jsonl}"
jar="$root/examples/target/attune-examples.jar"
[[ -f "$jar" ]] || (cd "$root" && mvn -B -q -DskipTests package)
if [[ "${ATTUNE_BLAS:-mkl}" == openblas ]]; then
  export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
fi
echo "serve bench: commit $(git -C "$root" rev-parse --short HEAD), $threads threads, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# shellcheck disable=SC2086
ATTUNE_THREADS="$threads" java ${ATTUNE_JAVA_OPTS:--Xmx8g} -cp "$jar" dev.attune.examples.bench.ServeBench \
    --out "$out" "${args[@]}"
echo "serve bench: load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; results in $out" >&2
