#!/usr/bin/env python3
"""Writes core/src/test/resources/tokenizer/gpt2-reference-ids.jsonl: GPT-2 token ids of tricky and random strings as
three independent Python implementations give them, for TokenizerReferenceTest (the Maven suite itself needs no Python).

  1. tiktoken (Rust BPE) with the r50k_base ranks from the JTokkit jar (tiktoken itself would download the same file)
     and GPT-2's split pattern;
  2. OpenAI's original encoder.py algorithm (Python `regex`, pair-rank BPE);
  3. Hugging Face tokenizers' ByteLevel BPE.
(2) and (3) need encoder.json / vocab.bpe; they are derived here from the same ranks, in Python, the way transformers
converts tiktoken files (each merge is the split of a token into the two parts that BPE with lower ranks produces).
A line is written only where all three agree; the script fails if they do not.

    python3 -m venv /tmp/tokvenv && /tmp/tokvenv/bin/pip install tiktoken tokenizers regex
    /tmp/tokvenv/bin/python scripts/interop/make_tokenizer_fixtures.py      # from the repository root

Versions used for the committed file: see the first line of the output file.
"""
import json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiktoken, tokenizers  # noqa: E402
from check_tokenizer import TRICKY, random_strings, r50k, openai_encoder  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "core", "src", "test", "resources", "tokenizer", "gpt2-reference-ids.jsonl")

PROSE = [
    "The quick brown fox jumps over the lazy dog.",
    "Licensed under the Apache License, Version 2.0 (the \"License\"); you may not use this file except in "
    "compliance with the License.",
    "GPT-2 is a large transformer-based language model with 1.5 billion parameters, trained on a dataset of 8 "
    "million web pages.",
    "def forward(self, x):\n    return self.mlp(self.ln_2(x)) + x\n",
    "Zürich, Kraków, Ålesund and São Paulo — naïve café résumé.",
    "¿Dónde está la biblioteca? Где библиотека? 图书馆在哪里？",
    "Prices rose 3.5% to $1,234.56 on 2024-01-02 at 10:30am.",
    "She said, \"I'll be there at 5 o'clock,\" and they'd agreed.",
]


def byte_level_files(enc):
    """encoder.json and vocab.bpe contents from tiktoken ranks (transformers' convert_tiktoken_to_fast, in short)."""
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:]
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + len(cs) - 188)
    b2u = dict(zip(bs, map(chr, cs)))
    ranks = enc._mergeable_ranks

    def text(token):
        return "".join(b2u[b] for b in token)

    def split(token, max_rank):  # BPE over the token's bytes using only ranks below max_rank
        parts = [bytes([b]) for b in token]
        while True:
            best = None
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + parts[i + 1])
                if r is not None and r < max_rank and (best is None or r < best[0]):
                    best = (r, i)
            if best is None:
                return parts
            i = best[1]
            parts = parts[:i] + [parts[i] + parts[i + 1]] + parts[i + 2:]

    vocab = {text(t): r for t, r in ranks.items()}
    vocab["<|endoftext|>"] = 50256
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) > 1:
            parts = split(token, rank)
            assert len(parts) == 2, (token, parts)
            merges.append(text(parts[0]) + " " + text(parts[1]))
    return vocab, merges


def main():
    import tempfile
    enc = r50k()
    vocab, merges = byte_level_files(enc)
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "encoder.json"), "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False)
        with open(os.path.join(d, "vocab.bpe"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
        original, hf = openai_encoder(d)
        strings = TRICKY + PROSE + random_strings(1500, seed=20261202)
        disagree = 0
        os.makedirs(os.path.dirname(OUT), exist_ok=True)
        with open(OUT, "w", encoding="utf-8") as out:
            out.write(json.dumps({"made_by": "scripts/interop/make_tokenizer_fixtures.py",
                                  "tiktoken": tiktoken.__version__, "tokenizers": tokenizers.__version__,
                                  "strings": len(strings)}) + "\n")
            for s in strings:
                a, b, c = enc.encode_ordinary(s), original(s), hf(s)
                if not (a == b == c):
                    disagree += 1
                    print(f"implementations disagree on {s!r}: tiktoken {a}, encoder.py {b}, tokenizers {c}")
                    continue
                out.write(json.dumps({"text": s, "ids": a}, ensure_ascii=True) + "\n")
    print(f"wrote {len(strings) - disagree} strings to {OUT}")
    sys.exit(1 if disagree else 0)


if __name__ == "__main__":
    main()
