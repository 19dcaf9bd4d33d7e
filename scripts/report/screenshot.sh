#!/usr/bin/env bash
# Takes the README's screenshot of a real `attune report`: two short pretraining runs of the tiny preset on this
# repository's own README and BENCHMARKS text (peak learning rates 6e-4 and 2e-3, everything else equal), reported
# side by side and photographed by headless Chromium.
#
#   scripts/report/screenshot.sh [OUT.png]        (default: scripts/report/report-screenshot.png)
#
# Needs Java 17 and Maven (./attune builds itself on first use), Debian's `chromium` package
# (apt-get install -y chromium) and ImageMagick's `convert` (apt-get install -y imagemagick) to trim the page's
# empty bottom and store the PNG with a 128-colour palette. STEPS (default 100) sets the length of each run; the
# runs and the page stay in WORK (default: a new temporary directory), so `attune report` can be rerun on them.
#
# The evaluation section shows a hand-written example file (its name says so), not a model's results: no command
# writes evaluation files yet, and the point is to show how a run's evaluations are drawn.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/scripts/report/report-screenshot.png}"
work="${WORK:-$(mktemp -d)}"
steps="${STEPS:-100}"
for tool in chromium convert; do
  command -v "$tool" >/dev/null || { echo "screenshot.sh: $tool not found (see the comment at the top)" >&2; exit 1; }
done

cat "$root/README.md" "$root/BENCHMARKS.md" > "$work/corpus.txt"
for lr in 6e-4 2e-3; do
  run="$work/tiny-lr$lr"
  if [[ ! -f "$run/model/config.json" ]]; then
    "$root/attune" pretrain --corpus "$work/corpus.txt" --config tiny --steps "$steps" --out "$run" \
      --batch 4 --context 64 --lr "$lr" --warmup 10 --eval-every 10 --no-progress
  fi
done

mkdir -p "$work/tiny-lr2e-3/evaluations"
cat > "$work/tiny-lr2e-3/evaluations/example.json" <<'JSON'
{"format": "attune-evaluation", "version": 1,
 "name": "example file (hand-written numbers, not a model's results)", "task": "classification",
 "details": {"data": "test.jsonl"},
 "metrics": {"accuracy": 0.8333, "macro_f1": 0.8228, "n": 120}, "stderr": {"accuracy": 0.034},
 "labels": ["negative", "neutral", "positive"], "confusion": [[38, 4, 2], [6, 24, 6], [1, 1, 38]]}
JSON

"$root/attune" report "$work/tiny-lr6e-4" "$work/tiny-lr2e-3" --out "$work/report.html" \
  --title "Attune run report: tiny GPT-2, two learning rates"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
  --window-size=1240,4000 --screenshot="$work/full.png" "file://$work/report.html" 2>/dev/null
# the window is taller than the page: cut the empty background below it, keep a margin, shrink the palette
convert "$work/full.png" -trim +repage -bordercolor '#f6f7f9' -border 12 -colors 128 "PNG8:$out"
echo "wrote $out ($(du -k "$out" | cut -f1) KiB) from $work/report.html"
