#!/usr/bin/env bash
# Side-by-side benchmark: Attune (MKL and OpenBLAS) and the PyTorch peer, alternating, several repetitions.
# Each workload runs in its own process (so peak RSS belongs to it), all with the same thread count.
#
#   bench/run.sh [--reps N] [--threads N] [--smoke] [--out DIR] [--sides S1,S2] [WORKLOAD...]
#
# --sides limits the sides run (attune-mkl, attune-openblas, pytorch, jtokkit; default: all that know the workload).
# Writes DIR/results.jsonl (one JSON line per process) and DIR/table.md (bench/report.py's table).
# Defaults: 3 repetitions, threads = cores, DIR = bench/out/<date-time>, every workload both sides know.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
reps=3
threads="$(nproc)"
smoke=""
out=""
only_sides=""
workloads=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --smoke) smoke="--smoke"; shift ;;
    --out) out="$2"; shift 2 ;;
    --sides) only_sides=",$2,"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) workloads+=("$1"); shift ;;
  esac
done
out="${out:-$here/out/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"

[[ -x "$here/.venv/bin/python" ]] || "$here/setup.sh"
python="$here/.venv/bin/python"
[[ -f "$root/examples/target/attune-examples.jar" ]] || (cd "$root" && mvn -B -q -DskipTests package)
# Run a copy of the jar and its libraries, so a rebuild during a long run cannot change what is measured.
mkdir -p "$out/jar"
cp -r "$root/examples/target/attune-examples.jar" "$root/examples/target/lib" "$out/jar/"
read -r -a java_opts <<< "${ATTUNE_JAVA_OPTS:--Xmx8g}"
# --add-modules: the compressed-weight workloads (generate-*-bf16|int8) use the Vector API, an incubator module.
attune=(java "${java_opts[@]}" --add-modules jdk.incubator.vector -jar "$out/jar/attune-examples.jar")
# Java 17 announces the incubator module on stderr at every start; keep that line out of the log.
quiet() { "$@" 2> >(grep -v --line-buffered '^WARNING: Using incubator modules' >&2); }

export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" ATTUNE_THREADS="$threads"
# OpenBLAS 0.3.19 (bundled with ND4J) does not pick its AVX-512 kernels for this CPU family unless told, and its
# busy-waiting OpenMP threads hurt small ops: both settings are the documented way to run Attune on OpenBLAS.
openblas_env=(ATTUNE_BLAS=openblas OMP_WAIT_POLICY=PASSIVE)
grep -qw avx512f /proc/cpuinfo && openblas_env+=(OPENBLAS_CORETYPE=SkylakeX)

mapfile -t java_names < <(quiet "${attune[@]}" bench --list)
mapfile -t peer_names < <(sed -n 's/^    "\([a-z0-9-]*\)": (.*/\1/p' "$here/pytorch_peer.py")
if [[ ${#workloads[@]} -eq 0 ]]; then
  workloads=(sgemm membw-read membw-copy tokenize train-tiny fwdbwd-tiny train-gpt2 fwdbwd-gpt2 score-b8
             generate-b1 generate-b1-bf16 generate-b1-int8 generate-b8 generate-b8-bf16 generate-b8-int8 mc-gpt2)
fi
has() { local x="$1"; shift; for n in "$@"; do [[ "$n" == "$x" ]] && return 0; done; return 1; }

run_one() { # side workload
  local side="$1" w="$2" status=0
  case "$side" in
    attune-mkl) quiet env ATTUNE_BLAS=mkl "${attune[@]}" bench "$w" $smoke >> "$results" || status=$? ;;
    attune-openblas) quiet env "${openblas_env[@]}" "${attune[@]}" bench "$w" $smoke >> "$results" || status=$? ;;
    pytorch) "$python" "$here/pytorch_peer.py" "$w" --threads "$threads" $smoke >> "$results" || status=$? ;;
    jtokkit) quiet "${attune[@]}" bench tokenize-jtokkit $smoke >> "$results" || status=$? ;;
  esac
  [[ $status -eq 0 ]] || echo "run.sh: $side $w failed (exit $status)" >&2
}

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit: $(git -C "$root" rev-parse HEAD) (uncommitted changes to tracked files: $([[ -z "$(git -C "$root" \
    status --porcelain --untracked-files=no)" ]] && echo no || echo yes))"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) cores"
  echo "flags: $(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx2|fma|avx512f|avx512_bf16|avx512_vnni|amx_tile' | xargs)"
  echo "memory: $(free -g | awk '/Mem:/ {print $2 " GiB"}')"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "torch: $("$python" -c 'import torch; print(torch.__version__)')"
  echo "threads: $threads; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/machine.txt"
echo "run.sh: $reps repetitions, $threads threads, results in $out" >&2
for ((rep = 1; rep <= reps; rep++)); do
  for w in "${workloads[@]}"; do
    sides=()
    if [[ "$w" == tokenize ]]; then
      has tokenize "${java_names[@]}" && sides+=(attune-mkl)
      sides+=(jtokkit)
    else
      has "$w" "${java_names[@]}" && sides+=(attune-mkl attune-openblas)
      has "$w" "${peer_names[@]}" && sides+=(pytorch)
    fi
    if [[ -n "$only_sides" ]]; then
      kept=()
      for s in "${sides[@]}"; do [[ "$only_sides" == *",$s,"* ]] && kept+=("$s"); done
      sides=("${kept[@]}")
    fi
    # Rotate the order every repetition so no side always runs first (after the machine has been idle).
    n=${#sides[@]}
    for ((i = 0; i < n; i++)); do
      side="${sides[$(((i + rep) % n))]}"
      echo "run.sh: rep $rep/$reps $w $side" >&2
      run_one "$side" "$w"
    done
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"
cat "$out/machine.txt"
"$python" "$here/report.py" "$results" | tee "$out/table.md"
