#!/usr/bin/env python3
"""Turns the JSON lines of `attune bench` and bench/pytorch_peer.py into Markdown tables (standard library only).

    python3 bench/report.py results.jsonl [more.jsonl ...]

Per workload and side (Attune MKL, Attune OpenBLAS, the peer): the median over repetitions of each process's
median, the spread (min-max of those), the ratio Attune/peer in throughput (above 1.0 = Attune faster), peak RSS,
model FLOP utilisation (training and scoring FLOP/s over the best large-sgemm rate measured) and, for decoding,
weight bytes read per second over the best memory read bandwidth measured.
"""
import json
import statistics
import sys
from collections import defaultdict

SIDES = ["attune-mkl", "attune-openblas", "peer"]
HEADERS = {"attune-mkl": "Attune MKL", "attune-openblas": "Attune OpenBLAS", "peer": "peer"}


def side_of(line):
    if line["impl"] == "attune":
        return "attune-" + line["blas"] if line["blas"] != "none" else "attune-mkl"
    return "peer"


def load(paths):
    runs = defaultdict(list)  # (workload, side) -> [line]
    peers = {}
    for path in paths:
        with open(path) as f:
            for raw in f:
                raw = raw.strip()
                if not raw.startswith("{"):
                    continue
                line = json.loads(raw)
                side = side_of(line)
                runs[(line["workload"], side)].append(line)
                if side == "peer":
                    peers[line["workload"]] = line["impl"]
    return runs, peers


def med(lines, key):
    vals = [l[key] for l in lines if l.get(key) is not None]
    return statistics.median(vals) if vals else None


def cell(lines, key="value", digits=1):
    if not lines:
        return "-"
    vals = [l[key] for l in lines]
    m = statistics.median(vals)
    if len(vals) == 1:
        return fmt(m, digits)
    # One format for the three numbers, chosen by the median, so they read as a group.
    return f"{fmt(m, digits, m)} ({fmt(min(vals), digits, m)}-{fmt(max(vals), digits, m)})"


def fmt(x, digits=1, like=None):
    if x is None:
        return "-"
    if abs(like if like is not None else x) >= 1e4:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def peer_workload(w):
    """Compressed-weight workloads (generate-b1-int8 ...) are compared with the peer's float32 workload."""
    for suffix in ("-bf16", "-int8"):
        if w.endswith(suffix):
            return w[: -len(suffix)]
    return w


def ratio(runs, w, side):
    a, p = runs.get((w, side)), runs.get((peer_workload(w), "peer"))
    if not a or not p:
        return "-"
    return f"{med(a, 'value') / med(p, 'value'):.2f}x"


def model_params(l):
    """Weights a decode step reads: every block, ln_f, and wte (the tied LM head); wpe contributes one row."""
    C, L, V = l["embd"], l["layers"], l["vocab"]
    return L * (12 * C * C + 13 * C) + V * C + 2 * C


def train_flops(l, backward=True, weight_gradients=True):
    """Matmul FLOPs of one step: 2 per multiply-add for every weight forward, as much again for the input gradients
    and again for the weight gradients (6 in all; 4 for a frozen base such as LoRA's, whose weights get no gradient
    and whose rank-8 adapters are left out), plus attention (PaLM's accounting: 4*T*C per token per layer forward,
    the full square, x3 with backward)."""
    C, L, V, B, T = l["embd"], l["layers"], l["vocab"], l["batch"], l["seq"]
    weights = L * 12 * C * C + V * C
    passes = 1 + (1 if backward else 0) + (1 if backward and weight_gradients else 0)
    per_token = 2 * passes * weights + (3 if backward else 1) * 4 * L * T * C
    return per_token * B * T


def table(runs, peers, names):
    out = []
    out.append("| workload | unit | Attune MKL | Attune OpenBLAS | peer | MKL / peer | OpenBLAS / peer |")
    out.append("|---|---|---|---|---|---|---|")
    for w in names:
        any_line = next((runs[(w, s)][0] for s in SIDES if runs.get((w, s))), None)
        if any_line is None:
            continue
        pw = peer_workload(w)
        peer = peers.get(pw, "-") + ("" if pw == w else f" ({pw})")
        out.append(f"| {w} | {any_line['unit']} | {cell(runs.get((w, 'attune-mkl')))} | "
                   f"{cell(runs.get((w, 'attune-openblas')))} | {peer}: {cell(runs.get((pw, 'peer')))} | "
                   f"{ratio(runs, w, 'attune-mkl')} | {ratio(runs, w, 'attune-openblas')} |")
    return out


def times(runs, names):
    out = ["| workload | Attune MKL | Attune OpenBLAS | peer |", "|---|---|---|---|"]
    for w in names:
        if not any(runs.get((w, s)) for s in SIDES):
            continue
        cells = []
        for s in SIDES:
            lines = runs.get((w, s))
            cells.append("-" if not lines else fmt(1000 * med(lines, "seconds_median"), 2))
        out.append(f"| {w} | " + " | ".join(cells) + " |")
    return out


def memory(runs, names):
    out = ["| workload | Attune MKL | Attune OpenBLAS | PyTorch |", "|---|---|---|---|"]
    for w in names:
        if not (w.startswith(("train", "fwdbwd", "generate", "score"))):
            continue
        if not any(runs.get((w, s)) for s in SIDES):
            continue
        cells = [fmt(med(runs[(w, s)], "peak_rss_mb"), 0) if runs.get((w, s)) else "-" for s in SIDES]
        out.append(f"| {w} | " + " | ".join(cells) + " |")
    return out


def utilisation(runs, names):
    gemm = {s: med(runs[("sgemm", s)], "value") for s in SIDES if runs.get(("sgemm", s))}
    bw = {s: med(runs[("membw-read", s)], "value") for s in SIDES if runs.get(("membw-read", s))}
    out = []
    if gemm:
        peak = max(gemm.values())
        out.append(f"Reference sgemm rate (512x768 @ 768x3072, best median of "
                   f"{', '.join(HEADERS[s] + ' ' + fmt(v) for s, v in gemm.items())}): {fmt(peak)} GFLOP/s.")
        out.append("")
        out.append("| workload | side | GFLOP/s achieved | model FLOP utilisation |")
        out.append("|---|---|---|---|")
        for w in names:
            if not w.startswith(("train", "fwdbwd", "score")):
                continue
            for s in SIDES:
                lines = runs.get((w, s))
                if not lines:
                    continue
                flops = train_flops(lines[0], backward=not w.startswith("score"),
                                    weight_gradients="lora" not in w)
                rate = flops / med(lines, "seconds_median") / 1e9
                out.append(f"| {w} | {HEADERS[s]} | {fmt(rate)} | {rate / peak:.2f} |")
        out.append("")
    if bw:
        peak = max(bw.values())
        out.append(f"Reference memory read bandwidth (sum over 1 GiB, best median of "
                   f"{', '.join(HEADERS[s] + ' ' + fmt(v) for s, v in bw.items())}): {fmt(peak)} GB/s.")
        out.append("")
        out.append("| workload | side | decode ms/step | prefill ms | weight GB/s | fraction of bandwidth |")
        out.append("|---|---|---|---|---|---|")
        for w in names:
            if not w.startswith("generate"):
                continue
            for s in SIDES:
                lines = runs.get((w, s))
                if not lines or med(lines, "decode_s_per_step") is None:
                    continue
                step = med(lines, "decode_s_per_step")
                # compressed weights report the bytes a step reads; float32 ones read 4 bytes a weight
                rate = (lines[0].get("weight_bytes") or 4 * model_params(lines[0])) / step / 1e9
                out.append(f"| {w} | {HEADERS[s]} | {fmt(1000 * step, 2)} | {fmt(1000 * med(lines, 'prefill_s'), 1)} "
                           f"| {fmt(rate)} | {rate / peak:.2f} |")
    return out


def main(paths):
    runs, peers = load(paths)
    order = ["sgemm", "membw-read", "membw-copy", "tokenize", "train-tiny", "fwdbwd-tiny", "train-gpt2",
             "train-lora-gpt2", "fwdbwd-gpt2", "score-b8", "mc-gpt2", "generate-b1", "generate-b1-bf16",
             "generate-b1-int8", "generate-b8", "generate-b8-bf16", "generate-b8-int8"]
    names = order + sorted({w for w, _ in runs} - set(order))
    reps = max((len(v) for v in runs.values()), default=0)
    sample = next(iter(runs.values()), [{}])[0]
    print(f"Throughput, median over {reps} repetitions (min-max in brackets); ratio = Attune / peer "
          f"(above 1.0 = Attune faster). Threads: {sample.get('threads')}.")
    print()
    print("\n".join(table(runs, peers, names)))
    print()
    print("Time per iteration (ms, median):")
    print()
    print("\n".join(times(runs, names)))
    print()
    print("Peak RSS (MiB, VmHWM of the process running only that workload):")
    print()
    print("\n".join(memory(runs, names)))
    print()
    print("\n".join(utilisation(runs, names)))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
