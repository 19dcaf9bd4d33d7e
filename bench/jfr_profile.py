#!/usr/bin/env python3
"""Aggregates `jfr print --json` execution and native-method samples of an Attune run.

Each sample is charged to its owner, the deepest model method on its stack (Linear.forward, LayerNorm.backward,
...; helpers such as Ops and Parallel and lambda shims are looked through), and to its kernel, the deepest
dev.attune frame at all (Ops.gemm, a host-kernel lambda, ...), with the leaf frame (a native ND4J call or JDK
code) alongside.
"""
import json
import sys
from collections import Counter

HELPERS = ("dev.attune.core.engine.", "dev.attune.core.model.Ops")
SETUP = ("Engine.start", "GptModel.create", "GptModel.<init>")  # before the timed loop: not charged


def cls(frame):
    return frame["method"]["type"]["name"].replace("/", ".")


def name(frame):
    return cls(frame).rsplit(".", 1)[-1] + "." + frame["method"]["name"]


def main(path):
    with open(path) as f:
        events = json.load(f)["recording"]["events"]
    owners, kernels, pairs = Counter(), Counter(), Counter()
    total = 0
    for e in events:
        frames = (e["values"].get("stackTrace") or {}).get("frames") or []
        attune = [fr for fr in frames if cls(fr).startswith("dev.attune.core") and "$$Lambda" not in cls(fr)]
        if not attune or any(name(fr) in SETUP for fr in attune):
            continue  # JVM start-up, JIT, model set-up, the harness itself: not the workload's time
        total += 1
        owner = next((name(fr) for fr in attune if not cls(fr).startswith(HELPERS)
                      and not fr["method"]["name"].startswith("lambda$")), name(attune[0]))
        kernel = name(attune[0])
        leaf = name(frames[0])
        owners[owner] += 1
        kernels[kernel if leaf == kernel else f"{kernel} > {leaf}"] += 1
        pairs[(owner, kernel)] += 1
    print(f"{total} samples inside dev.attune.core (Java and native frames, all threads)\n")
    for title, counter in (("owner (model method)", owners), ("kernel > leaf frame", kernels)):
        print(f"| {title} | share |\n|---|---|")
        for key, n in counter.most_common(20):
            print(f"| {key} | {100.0 * n / total:.1f}% |")
        print()
    print("| owner | kernel | share |\n|---|---|---|")
    for (owner, kernel), n in pairs.most_common(30):
        print(f"| {owner} | {kernel} | {100.0 * n / total:.1f}% |")


if __name__ == "__main__":
    main(sys.argv[1])
