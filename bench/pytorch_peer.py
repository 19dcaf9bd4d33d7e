#!/usr/bin/env python3
"""The PyTorch peer of `attune bench`: the same workloads, shapes and JSON keys, in plain eager PyTorch.

A nanoGPT-style GPT-2 (tied embeddings, tanh GELU, fused qkv, scaled_dot_product_attention) with random
weights; generation uses a preallocated KV cache, as Attune does. One workload per process, so the peak
RSS a line reports belongs to that workload alone. Each line on stdout is one JSON object; keys:

  impl, blas, version, workload, threads, warmup, iters, seconds_median, seconds_min, seconds_max,
  value, unit, peak_rss_mb, and per-workload shape fields (layers, heads, embd, vocab, batch, seq, ...).

Run `bench/setup.sh` once, then e.g. `bench/.venv/bin/python bench/pytorch_peer.py train-tiny --threads 2`.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
from torch.nn import functional as F

# ------------------------------------------------------------------------------------------------- model


class Config:
    def __init__(self, layers, heads, embd, vocab, context):
        self.layers, self.heads, self.embd, self.vocab, self.context = layers, heads, embd, vocab, context


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.heads = cfg.heads
        self.c_attn = nn.Linear(cfg.embd, 3 * cfg.embd)
        self.c_proj = nn.Linear(cfg.embd, cfg.embd)

    def forward(self, x, cache=None, pos=0):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        # [B, T, C] -> [B, H, T, hs]
        q = q.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        k = k.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        v = v.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        if cache is not None:
            kc, vc = cache
            kc[:, :, pos:pos + T] = k
            vc[:, :, pos:pos + T] = v
            k, v = kc[:, :, :pos + T], vc[:, :, :pos + T]
            # A prompt on an empty cache is causal; one new token sees everything before it.
            y = F.scaled_dot_product_attention(q, k, v, is_causal=(T > 1 and pos == 0))
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.embd)
        self.attn = Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.embd)
        self.c_fc = nn.Linear(cfg.embd, 4 * cfg.embd)
        self.c_proj = nn.Linear(4 * cfg.embd, cfg.embd)

    def forward(self, x, cache=None, pos=0):
        x = x + self.attn(self.ln_1(x), cache, pos)
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab, cfg.embd)
        self.wpe = nn.Embedding(cfg.context, cfg.embd)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
        self.ln_f = nn.LayerNorm(cfg.embd)
        self.lm_head = nn.Linear(cfg.embd, cfg.vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # tied, as in GPT-2
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.layers))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def forward(self, idx, caches=None, pos=0):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(pos, pos + T, dtype=torch.long))
        for i, block in enumerate(self.h):
            x = block(x, None if caches is None else caches[i], pos)
        return self.lm_head(self.ln_f(x))

    def new_cache(self, batch, capacity):
        hs = self.cfg.embd // self.cfg.heads
        return [(torch.empty(batch, self.cfg.heads, capacity, hs), torch.empty(batch, self.cfg.heads, capacity, hs))
                for _ in range(self.cfg.layers)]


def make_optimizer(model):
    # nanoGPT's AdamW: decay matrices and embeddings, not biases and LayerNorm gains.
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=6e-4, betas=(0.9, 0.95), eps=1e-8)


# ------------------------------------------------------------------------------------------- workloads

TINY = dict(layers=2, heads=4, embd=128, vocab=256)
GPT2 = dict(layers=12, heads=12, embd=768, vocab=50257)
SMOKE = dict(layers=1, heads=2, embd=32, vocab=64)


def shape(name, smoke):
    return SMOKE if smoke else (TINY if name == "tiny" else GPT2)


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def train(args, which, with_optimizer):
    s = shape(which, args.smoke)
    B, T = (2, 8) if args.smoke else ((8, 64) if which == "tiny" else (4, 128))
    torch.manual_seed(1)
    model = GPT(Config(context=256 if which == "tiny" else 1024, **s))
    model.train()
    opt = make_optimizer(model)
    x = torch.randint(0, s["vocab"], (B, T))
    y = torch.randint(0, s["vocab"], (B, T))

    def step():
        logits = model(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))
        loss.backward()
        if with_optimizer:
            # nanoGPT's step, and what Attune's LmTraining does: clip the global norm to 1, then AdamW.
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        model.zero_grad(set_to_none=True)

    times = timed(step, args.warmup, args.iters)
    return times, dict(s, batch=B, seq=T, tokens_per_iter=B * T, optimizer="adamw" if with_optimizer else "none")


def train_lora(args):
    """The LoRA step beside train-gpt2: PEFT's LoRA r=8, alpha 16 on c_attn, base frozen, AdamW on the adapter."""
    from peft import LoraConfig, get_peft_model
    s = shape("gpt2", args.smoke)
    B, T = (2, 8) if args.smoke else (4, 128)
    torch.manual_seed(1)
    model = get_peft_model(GPT(Config(context=1024, **s)),
                           LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["c_attn"]))
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=6e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
    x = torch.randint(0, s["vocab"], (B, T))
    y = torch.randint(0, s["vocab"], (B, T))

    def step():
        logits = model(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        model.zero_grad(set_to_none=True)

    times = timed(step, args.warmup, args.iters)
    return times, dict(s, batch=B, seq=T, tokens_per_iter=B * T, optimizer="adamw",
                       trainable=sum(p.numel() for p in trainable))


def generate(args, batch):
    s = shape("gpt2", args.smoke)
    prompt, total = (4, 12) if args.smoke else (16, 128)
    torch.manual_seed(1)
    model = GPT(Config(context=1024, **s)).eval()
    idx = torch.randint(0, s["vocab"], (batch, prompt))
    split = {"prefill": [], "decode": []}

    def run():
        with torch.inference_mode():
            caches = model.new_cache(batch, total)
            t0 = time.perf_counter()
            nxt = model(idx, caches, 0)[:, -1].argmax(-1, keepdim=True)
            t1 = time.perf_counter()
            for pos in range(prompt, total - 1):
                nxt = model(nxt, caches, pos)[:, -1].argmax(-1, keepdim=True)
            t2 = time.perf_counter()
            split["prefill"].append(t1 - t0)
            split["decode"].append(t2 - t1)

    times = timed(run, args.warmup, args.iters)
    new = total - prompt
    steps = new - 1  # the first new token comes out of the prefill
    extra = dict(s, batch=batch, prompt=prompt, total=total, tokens_per_iter=batch * new,
                 prefill_s=statistics.median(split["prefill"][args.warmup:]),
                 decode_s_per_step=statistics.median(split["decode"][args.warmup:]) / steps)
    return times, extra


def score(args):
    s = shape("gpt2", args.smoke)
    B, T = (2, 8) if args.smoke else (8, 128)
    torch.manual_seed(1)
    model = GPT(Config(context=1024, **s)).eval()
    x = torch.randint(0, s["vocab"], (B, T))
    y = torch.randint(0, s["vocab"], (B, T))

    def run():
        with torch.inference_mode():
            logits = model(x)
            return F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1), reduction="sum").item()

    times = timed(run, args.warmup, args.iters)
    return times, dict(s, batch=B, seq=T, tokens_per_iter=B * T)


def classify(args):
    """Sequence classification as GPT2ForSequenceClassification: the texts of Attune's classify-gpt2 (lengths
    32 + (37 i mod 97), i < 64), sorted by length, 16 per batch right-padded, final hidden states after ln_f read at
    each row's last real token, a bias-free linear layer to 3 labels, softmax."""
    s = dict(layers=1, heads=2, embd=32, vocab=50257) if args.smoke else GPT2
    n, B = (4, 2) if args.smoke else (64, 16)
    lengths = sorted((3 + i) if args.smoke else 32 + (i * 37) % 97 for i in range(n))
    torch.manual_seed(1)
    model = GPT(Config(context=1024 if not args.smoke else 64, **s)).eval()
    score = nn.Linear(s["embd"], 3, bias=False)

    def run():
        with torch.inference_mode():
            out = []
            for start in range(0, n, B):
                rows = lengths[start:start + B]
                x = torch.full((len(rows), max(rows)), 262, dtype=torch.long)
                h = model.wte(x) + model.wpe(torch.arange(0, x.shape[1], dtype=torch.long))
                for block in model.h:
                    h = block(h, None, 0)
                h = model.ln_f(h)
                last = h[torch.arange(len(rows)), torch.tensor(rows) - 1]
                out.append(torch.softmax(score(last), dim=-1))
            return out

    times = timed(run, args.warmup, args.iters)
    return times, dict(s, batch=B, items_per_iter=n, tokens=sum(lengths))


def mc(args):
    """Multiple-choice scoring as lm-evaluation-harness's HFLM loop does it: one row per (context, choice), rows
    sorted by length (longest first), batches of 8 right-padded, log-softmax of the logits, the choice tokens'
    log-probabilities summed and the greedy flag taken. The same items as Attune's mc-gpt2 (EvalBenches)."""
    s = dict(layers=1, heads=2, embd=32, vocab=50257) if args.smoke else GPT2
    items, choices, batch = (2 if args.smoke else 16), 4, 8
    torch.manual_seed(1)
    model = GPT(Config(context=256 if args.smoke else 1024, **s)).eval()
    g = torch.Generator().manual_seed(5)
    reqs = []
    for i in range(items):
        ctx = torch.randint(0, s["vocab"], (64 + (i * 37) % 64,), generator=g)
        for c in range(choices):
            reqs.append((ctx, torch.randint(0, s["vocab"], (2 + (i + c) % 4,), generator=g)))

    def run():
        out = [None] * len(reqs)
        order = sorted(range(len(reqs)), key=lambda r: -(len(reqs[r][0]) + len(reqs[r][1])))
        with torch.inference_mode():
            for b in range(0, len(order), batch):
                idx = order[b:b + batch]
                rows = [torch.cat(reqs[r])[:-1] for r in idx]
                x = torch.zeros(len(rows), max(len(row) for row in rows), dtype=torch.long)
                for j, row in enumerate(rows):
                    x[j, :len(row)] = row
                logp = F.log_softmax(model(x), dim=-1)
                for j, r in enumerate(idx):
                    ctx, cont = reqs[r]
                    lp = logp[j, len(ctx) - 1:len(ctx) - 1 + len(cont)]
                    out[r] = (lp.gather(-1, cont[:, None]).sum().item(), bool((lp.argmax(-1) == cont).all()))
        return out

    times = timed(run, args.warmup, args.iters)
    return times, dict(s, items=items, choices=choices, batch=batch, requests_per_iter=items * choices,
                       items_per_iter=items)


def sgemm(args):
    M, K, N = (64, 96, 128) if args.smoke else (512, 768, 3072)
    torch.manual_seed(1)
    a, b, c = torch.randn(M, K), torch.randn(K, N), torch.empty(M, N)
    times = timed(lambda: torch.mm(a, b, out=c), args.warmup, args.iters)
    return times, dict(m=M, k=K, n=N, flops_per_iter=2 * M * K * N)


def membw(args, copy):
    n = (1 << 20) if args.smoke else (256 << 20)  # 1 GiB of float32: beyond any cache
    src = torch.rand(n)
    dst = torch.empty(n)
    fn = (lambda: dst.copy_(src)) if copy else (lambda: src.sum().item())
    times = timed(fn, args.warmup, args.iters)
    return times, dict(bytes_per_iter=(2 if copy else 1) * 4 * n)


WORKLOADS = {
    "train-tiny": (lambda a: train(a, "tiny", True), "tokens/s"),
    "train-gpt2": (lambda a: train(a, "gpt2", True), "tokens/s"),
    "train-lora-gpt2": (train_lora, "tokens/s"),
    "fwdbwd-tiny": (lambda a: train(a, "tiny", False), "tokens/s"),
    "fwdbwd-gpt2": (lambda a: train(a, "gpt2", False), "tokens/s"),
    "generate-b1": (lambda a: generate(a, 1), "tokens/s"),
    "generate-b8": (lambda a: generate(a, 8), "tokens/s"),
    "score-b8": (score, "tokens/s"),
    "classify-gpt2": (classify, "items/s"),
    "mc-gpt2": (mc, "items/s"),
    "sgemm": (sgemm, "GFLOP/s"),
    "membw-read": (lambda a: membw(a, False), "GB/s"),
    "membw-copy": (lambda a: membw(a, True), "GB/s"),
}


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workloads", nargs="+", choices=sorted(WORKLOADS) + ["all"])
    p.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    p.add_argument("--warmup", type=int, default=None, help="untimed iterations (default: 1, or 0 with --smoke)")
    p.add_argument("--iters", type=int, default=None, help="timed iterations (default: workload's own)")
    p.add_argument("--smoke", action="store_true", help="tiny shapes, one iteration: checks the harness runs")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    names = sorted(WORKLOADS) if "all" in args.workloads else args.workloads
    for name in names:
        fn, unit = WORKLOADS[name]
        a = argparse.Namespace(**vars(args))
        a.warmup = (0 if args.smoke else default_warmup(name)) if args.warmup is None else args.warmup
        a.iters = (1 if args.smoke else default_iters(name)) if args.iters is None else args.iters
        times, extra = fn(a)
        med = statistics.median(times)
        per_iter = extra.get("tokens_per_iter") or extra.get("items_per_iter") or extra.get("flops_per_iter") or extra.get("bytes_per_iter")
        value = per_iter / med / (1e9 if unit in ("GFLOP/s", "GB/s") else 1.0)
        line = dict(impl="pytorch", blas=blas_name(), version=torch.__version__, workload=name,
                    threads=args.threads, warmup=a.warmup, iters=a.iters, seconds_median=med,
                    seconds_min=min(times), seconds_max=max(times), value=value, unit=unit,
                    peak_rss_mb=peak_rss_mb(), smoke=args.smoke)
        line.update(extra)
        print(json.dumps(line), flush=True)


# The tiny workloads' counts match Attune's (Workloads.java): 100 untimed steps cover its JIT warm-up (the steps
# stop getting faster after 50-100), 200 timed ones give a stable median. Both sides get the same counts.
def default_warmup(name):
    if name in ("train-tiny", "fwdbwd-tiny"):
        return 100
    return 3 if name in ("sgemm", "membw-read", "membw-copy") else 1


def default_iters(name):
    if name in ("train-tiny", "fwdbwd-tiny"):
        return 200
    if name == "sgemm":
        return 30
    if name in ("membw-read", "membw-copy"):
        return 10
    return 3


def blas_name():
    cfg = torch.__config__.show()
    return "mkl" if "Math Kernel Library" in cfg else ("openblas" if "OpenBLAS" in cfg else "unknown")


if __name__ == "__main__":
    sys.exit(main())
