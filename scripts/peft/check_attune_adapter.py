#!/usr/bin/env python3
"""Loads the LoRA adapter Attune saved (finetune/src/test/resources/peft/attune_lora/, written by
AttuneSavedLoraTest) with Python's PEFT onto the fixture base, and writes PEFT's logits for the fixture ids to
attune_lora_expected.safetensors, which the Java test compares with Attune's. Run after make_fixtures.py:

    /tmp/venv/bin/python scripts/peft/check_attune_adapter.py
"""
import os

import torch
from peft import PeftModel
from safetensors.torch import save_file

import make_fixtures as mf

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "finetune", "src", "test", "resources",
                                    "peft"))


def main():
    model = PeftModel.from_pretrained(mf.base_model(), os.path.join(ROOT, "attune_lora"))
    model.eval()
    lora_modules = [n for n, _ in model.named_modules() if n.endswith("lora_A")]
    assert len(lora_modules) == 4, lora_modules  # attn.c_proj and mlp.c_fc in both layers
    logits = mf.logits(model)
    merged = mf.logits(model.merge_and_unload())
    assert torch.allclose(logits, merged, atol=1e-5)
    save_file({"logits": logits}, os.path.join(ROOT, "attune_lora_expected.safetensors"))
    print("PEFT loaded Attune's adapter:", lora_modules, "logits", tuple(logits.shape))


if __name__ == "__main__":
    main()
