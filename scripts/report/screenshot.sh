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
# The evaluation section is `attune evaluate --save` on one of the two models: a real zero-shot classification of 12
# sentences written for this script (a 100-step model is no sentiment classifier; the point is the drawing).
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

# a real evaluation for the evaluation section: the 100-step model as a zero-shot sentiment classifier (it is far too
# small to be good at it; the point is how a run's evaluations are drawn)
cat > "$work/moods.jsonl" <<'JSONL'
{"text": "What a lovely day, I enjoyed every minute.", "label": "positive"}
{"text": "The food was cold and the staff were rude.", "label": "negative"}
{"text": "The meeting is at three o'clock.", "label": "neutral"}
{"text": "Best concert I have ever been to!", "label": "positive"}
{"text": "I lost my keys and missed the train.", "label": "negative"}
{"text": "The report has twelve pages.", "label": "neutral"}
{"text": "Thank you, this made my week.", "label": "positive"}
{"text": "It broke after one use. Useless.", "label": "negative"}
{"text": "The shop opens on Mondays.", "label": "neutral"}
{"text": "A wonderful, warm and funny film.", "label": "positive"}
{"text": "Worst service, never again.", "label": "negative"}
{"text": "The bus leaves from platform two.", "label": "neutral"}
JSONL
rm -rf "$work/tiny-lr2e-3/evaluations"
"$root/attune" evaluate --model "$work/tiny-lr2e-3/model" --task "$work/moods.jsonl" --type cls \
  --save "$work/tiny-lr2e-3" --no-progress

"$root/attune" report "$work/tiny-lr6e-4" "$work/tiny-lr2e-3" --out "$work/report.html" \
  --title "Attune run report: tiny GPT-2, two learning rates"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
  --window-size=1240,4000 --screenshot="$work/full.png" "file://$work/report.html" 2>/dev/null
# the window is taller than the page: cut the empty background below it, keep a margin, shrink the palette
convert "$work/full.png" -trim +repage -bordercolor '#f6f7f9' -border 12 -colors 128 "PNG8:$out"
echo "wrote $out ($(du -k "$out" | cut -f1) KiB) from $work/report.html"
