#!/usr/bin/env bash
# Where the time of one Attune workload goes: runs `attune bench WORKLOAD` under Java Flight Recorder and prints
# the share of samples per Attune method (the deepest dev.attune.core frame of each sample, so a GEMM issued by
# Linear.forward counts for Linear.forward) and per leaf frame (native ND4J call or Java kernel).
#
#   bench/profile.sh WORKLOAD [extra attune bench options]     (ATTUNE_BLAS, ATTUNE_THREADS as usual)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
[[ $# -ge 1 ]] || { sed -n '2,6p' "$0"; exit 2; }
w="$1"; shift
out="$here/out/profile-$w-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
ATTUNE_JAVA_OPTS="-Xmx8g -XX:StartFlightRecording=filename=$out/rec.jfr,settings=profile" \
  "$root/attune" bench "$w" "$@" | tee "$out/result.jsonl"
jfr print --json --stack-depth 64 --events jdk.ExecutionSample,jdk.NativeMethodSample "$out/rec.jfr" > "$out/samples.json"
python3 "$here/jfr_profile.py" "$out/samples.json" | tee "$out/profile.txt"
