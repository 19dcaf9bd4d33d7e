#!/usr/bin/env python3
"""Cross-checks Attune's checkpoint files against Hugging Face transformers and safetensors.

Not part of the Maven suite (which must not need Python). Needs Python with torch, transformers, safetensors and
numpy, Java 17, and the core module built (mvn -B -DskipTests install). Run from the repository root:

    python scripts/interop/check_interop.py          # small models (a minute)
    python scripts/interop/check_interop.py --big    # also a GPT-2-small-shaped model (124M parameters)

Checks, each printing the largest absolute logits difference:
  1. attune -> transformers: a checkpoint Attune saves loads in GPT2LMHeadModel.from_pretrained with no missing,
     unexpected or mismatched keys, and gives Attune's logits.
  2. transformers -> attune: save_pretrained output in float32, float16 and bfloat16, and a legacy layout (no
     "transformer." prefix, attn.bias mask buffers, an explicit tied lm_head.weight), loaded by Attune.
  3. F16/BF16 rounding: Attune's writer gives the same bits as torch's .to(float16) / .to(bfloat16).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import GPT2Config, GPT2LMHeadModel

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INTEROP_JAVA = os.path.join(ROOT, "scripts", "interop", "Interop.java")
TOLERANCE = 1e-4


def classpath(work):
    out = os.path.join(work, "cp.txt")
    subprocess.run(["mvn", "-B", "-q", "dependency:build-classpath", "-pl", "core", "-Dmdep.includeScope=runtime",
                    "-Dmdep.outputFile=" + out], cwd=ROOT, check=True)
    with open(out) as f:
        return os.path.join(ROOT, "core", "target", "classes") + os.pathsep + f.read().strip()


def java(cp, *args):
    result = subprocess.run(["java", "-Xmx8g", "-cp", cp, INTEROP_JAVA, *map(str, args)], cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("Interop.java " + " ".join(map(str, args)) + " failed:\n" + result.stdout + result.stderr)
    for line in result.stdout.splitlines():
        if line.startswith("attune:"):
            print("    " + line)


def hf_logits(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits.float().numpy()


def attune_logits(cp, directory, ids, work):
    out = os.path.join(work, "logits.safetensors")
    java(cp, "logits", directory, out, *ids)
    return load_file(out)["logits"].numpy()


def report(name, a, b, results):
    diff = float(np.max(np.abs(a - b)))
    ok = a.shape == b.shape and diff <= TOLERANCE
    results.append(ok)
    print(f"  {'ok  ' if ok else 'FAIL'} {name}: logits {list(a.shape)}, max |attune - transformers| = {diff:.3g}"
          f" (max |logit| {float(np.max(np.abs(b))):.3g})")


def random_hf_model(config, seed):
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    with torch.no_grad():
        for p in model.parameters():  # every tensor non-trivial, biases and LayerNorms included
            p.add_(torch.rand_like(p).sub_(0.5).mul_(0.1))
    return model.eval()


def check_attune_to_hf(cp, work, shape, ids, results):
    layers, heads, embd, vocab, positions = shape
    d = os.path.join(work, f"attune-L{layers}-C{embd}")
    java(cp, "save", d, 1234, layers, heads, embd, vocab, positions)
    t0 = time.time()
    model, info = GPT2LMHeadModel.from_pretrained(d, output_loading_info=True)
    print(f"    transformers: loaded {d} in {time.time() - t0:.2f} s")
    model.eval()
    problems = {k: v for k, v in info.items() if v}
    if problems:
        print("  FAIL loading report:", problems)
        results.append(False)
    tied = model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()
    with safe_open(os.path.join(d, "model.safetensors"), "pt") as f:
        meta = f.metadata()
        dtypes = {f.get_slice(k).get_dtype() for k in f.keys()}
    print(f"    file metadata {meta}, dtypes {sorted(dtypes)}, lm_head tied to wte: {tied}")
    results.append(meta == {"format": "pt"} and tied)
    report(f"attune -> transformers (L{layers} C{embd} V{vocab})", attune_logits(cp, d, ids, work),
           hf_logits(model, ids), results)


def check_hf_to_attune(cp, work, shape, ids, results):
    layers, heads, embd, vocab, positions = shape
    config = GPT2Config(n_layer=layers, n_head=heads, n_embd=embd, vocab_size=vocab, n_positions=positions,
                        bos_token_id=0, eos_token_id=0)
    model = random_hf_model(config, 7)

    d32 = os.path.join(work, "hf-f32")
    model.save_pretrained(d32)
    report("transformers float32 -> attune", attune_logits(cp, d32, ids, work), hf_logits(model, ids), results)

    for dtype, name in ((torch.float16, "float16"), (torch.bfloat16, "bfloat16")):
        d = os.path.join(work, "hf-" + name)
        GPT2LMHeadModel.from_pretrained(d32, dtype=dtype).save_pretrained(d)
        reference = GPT2LMHeadModel.from_pretrained(d, dtype=torch.float32).eval()  # the rounded weights, in fp32
        report(f"transformers {name} file -> attune", attune_logits(cp, d, ids, work), hf_logits(reference, ids),
               results)

    # Legacy layout: bare names, causal-mask buffers, an explicit copy of the tied head.
    dl = os.path.join(work, "hf-legacy")
    os.makedirs(dl, exist_ok=True)
    config.save_pretrained(dl)
    tensors = {k: v.contiguous() for k, v in model.transformer.state_dict().items()}
    for i in range(layers):
        tensors[f"h.{i}.attn.bias"] = torch.tril(torch.ones(positions, positions)).view(1, 1, positions, positions)
        tensors[f"h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
    tensors["lm_head.weight"] = model.lm_head.weight.detach().clone()
    save_file(tensors, os.path.join(dl, "model.safetensors"), metadata={"format": "pt"})
    report("legacy layout (bare names, mask buffers, lm_head copy) -> attune", attune_logits(cp, dl, ids, work),
           hf_logits(model, ids), results)


def check_rounding(cp, work, results):
    rng = np.random.default_rng(3)
    specials = [0.0, -0.0, 1.0, -2.5, 65504.0, 65519.0, 65520.0, 1e6, 5.9604645e-8, 2.9802322e-8, 2.9802326e-8,
                1e-10, 6.097555e-5, 3.4028235e38, 1.00390625, 1.01171875, float("inf"), float("-inf")]
    values = np.concatenate([np.array(specials, dtype=np.float32),
                             (rng.standard_normal(2000) * 10.0 ** rng.integers(-9, 6, 2000)).astype(np.float32)])
    out = os.path.join(work, "dtypes.safetensors")
    java(cp, "dtypes", out, *[repr(float(v)) if np.isfinite(v) else ("Infinity" if v > 0 else "-Infinity")
                              for v in values])
    t = load_file(out)
    source = torch.from_numpy(values)
    same32 = torch.equal(t["f32"].view(torch.int32), source.view(torch.int32))
    same16 = torch.equal(t["f16"].view(torch.int16), source.to(torch.float16).view(torch.int16))
    sameb16 = torch.equal(t["bf16"].view(torch.int16), source.to(torch.bfloat16).view(torch.int16))
    ok = same32 and same16 and sameb16
    results.append(ok)
    print(f"  {'ok  ' if ok else 'FAIL'} writer rounding vs torch on {len(values)} values: F32 bits equal {same32},"
          f" F16 bits equal {same16}, BF16 bits equal {sameb16}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--big", action="store_true", help="also check a GPT-2-small-shaped model")
    args = parser.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() // 2))
    results = []
    with tempfile.TemporaryDirectory(prefix="attune-interop-") as work:
        cp = classpath(work)
        ids = [3, 17, 42, 7, 99, 0, 250, 11]
        small = (2, 4, 64, 500, 32)
        print("attune -> transformers")
        check_attune_to_hf(cp, work, small, ids, results)
        if args.big:
            check_attune_to_hf(cp, work, (12, 12, 768, 50257, 1024), [464, 2068, 7586, 21831, 18045, 625, 262], results)
        print("transformers -> attune")
        check_hf_to_attune(cp, work, small, ids, results)
        print("rounding")
        check_rounding(cp, work, results)
    print(f"{sum(results)}/{len(results)} checks passed")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
