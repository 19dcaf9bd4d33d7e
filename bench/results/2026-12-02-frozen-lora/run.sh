#!/usr/bin/env bash
# Full training step vs frozen base + LoRA r=8 on c_attn, GPT-2 small B4 T128, alternating, one process each.
out=results.jsonl
: > $out
export ATTUNE_THREADS=2 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
for rep in 1 2 3; do
  for w in train-gpt2 train-lora-gpt2; do
    java -Xmx8g -jar examples/target/attune-examples.jar bench $w --warmup 2 --iters 5 2>/dev/null | tail -1 >> $out
  done
done

