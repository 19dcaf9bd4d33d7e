#!/usr/bin/env python3
"""Makes the scoring fixture of LoglikelihoodScorerFixtureTest with Hugging Face transformers as the reference.

A tiny GPT-2 (vocabulary 97, 2 layers, 32 positions, weights drawn with a large initializer range so the
distributions are far from uniform) is saved as a Hugging Face directory; then

* log-likelihood requests (token ids) are scored exactly as lm-evaluation-harness's HFLM._loglikelihood_tokens
  does: the row is (context + continuation)[-(max_length + 1):][:-1], the log-softmax of the logits is sliced to
  the continuation's positions, summed, and the greedy flag is whether every arg-max equals its token;
* whole sequences are scored with Hugging Face's strided sliding-window perplexity loop (docs "Perplexity of
  fixed-length models"): windows of max_length tokens every `stride` tokens, each window's labels masked to the
  tokens the previous window did not score (the sum of token log-probabilities is kept exactly rather than
  window mean times target length).

Run once with a Python that has torch and transformers:
    python scripts/prompting/make_scoring_fixture.py prompting/src/test/resources/fixtures/hf-scoring
"""
import json
import random
import sys
from pathlib import Path

import torch
from torch.nn import functional as F
from transformers import GPT2Config, GPT2LMHeadModel


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=97, n_positions=32, n_embd=16, n_layer=2, n_head=2, initializer_range=0.5,
                        bos_token_id=96, eos_token_id=96, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(config).eval()
    model.save_pretrained(out, safe_serialization=True)
    max_length = config.n_positions

    rnd = random.Random(1)
    requests = []
    for i in range(24):
        ctx = [rnd.randrange(96) for _ in range(rnd.choice([1, 2, 5, 9, 17, 30, 40]))]
        cont = [rnd.randrange(96) for _ in range(rnd.choice([1, 1, 2, 3, 5]))]
        requests.append((ctx, cont))
    shared = [rnd.randrange(96) for _ in range(12)]  # one context, four one-token choices
    for c in range(4):
        requests.append((shared, [rnd.randrange(96)]))
    # a continuation the model itself predicts greedily, so a greedy flag is true
    ctx = [rnd.randrange(96) for _ in range(6)]
    greedy = []
    with torch.no_grad():
        for _ in range(3):
            greedy.append(int(model(torch.tensor([ctx + greedy])).logits[0, -1].argmax()))
    requests.append((ctx, greedy))

    expected = []
    with torch.no_grad():
        for ctx, cont in requests:
            inp = (ctx + cont)[-(max_length + 1):][:-1]
            logits = F.log_softmax(model(torch.tensor([inp])).logits[0], dim=-1)
            logits = logits[len(inp) - len(cont):]
            tokens = torch.tensor(cont)
            ll = logits.gather(-1, tokens[:, None]).sum().item()
            is_greedy = bool((logits.argmax(-1) == tokens).all())
            expected.append({"context": ctx, "continuation": cont, "loglikelihood": ll, "greedy": is_greedy})

    rolling = []
    with torch.no_grad():
        for length, window, stride in [(70, 32, 16), (70, 32, 31), (20, 32, 16), (45, 10, 3)]:
            ids = [rnd.randrange(96) for _ in range(length)]
            total, count, prev_end = 0.0, 0, 0
            for begin in range(0, length, stride):
                end = min(begin + window, length)
                trg_len = end - prev_end
                input_ids = torch.tensor([ids[begin:end]])
                labels = input_ids.clone()
                labels[:, :-trg_len] = -100
                logp = F.log_softmax(model(input_ids).logits[0], dim=-1)
                for t in range(1, end - begin):
                    if labels[0, t] != -100:
                        total += logp[t - 1, labels[0, t]].item()
                        count += 1
                prev_end = end
                if end == length:
                    break
            rolling.append({"ids": ids, "window": window, "stride": stride, "loglikelihood": total,
                            "tokens": count})

    (out / "expected.json").write_text(json.dumps({"max_length": max_length, "requests": expected,
                                                   "rolling": rolling}, indent=1) + "\n")
    print(f"wrote {out}: {len(expected)} requests, {len(rolling)} rolling sequences")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "prompting/src/test/resources/fixtures/hf-scoring")
