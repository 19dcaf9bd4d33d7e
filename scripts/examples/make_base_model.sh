#!/usr/bin/env bash
# Re-makes examples/base-model: a 4,096-id byte-level BPE vocabulary and a 2.6M-parameter GPT-2 (4 layers, 4 heads,
# 192 wide, 256 positions) pretrained by `attune pretrain` on the Jargon File 4.4.7 (examples/data/corpus).
# Run from the repository root after `mvn -B -q -DskipTests package`. Took 12 minutes on 2 cores shared with other
# builds on 2026-12-02 (about 2.7 s a step when the machine was quieter, 6 s when loaded).
set -euo pipefail
work="${1:-base-run}"
mkdir -p "$work"
zcat examples/data/corpus/jargon-4.4.7.txt.gz > "$work/jargon.txt"
./attune train-tokenizer --corpus "$work/jargon.txt" --vocab-size 4096 --out "$work/tokenizer"
./attune pretrain --corpus "$work/jargon.txt" --tokenizer "$work/tokenizer" \
  --config scripts/examples/base-model-config.json --steps 240 --batch 16 --context 128 --lr 3e-3 --warmup 12 \
  --eval-every 60 --eval-batches 8 --checkpoint-every 60 --seed 1337 --out "$work/pretrain" --output json
rm -rf examples/base-model
cp -r "$work/pretrain/model" examples/base-model
