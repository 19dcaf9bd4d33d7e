#!/usr/bin/env python3
"""Loads the LoRA adapter Attune saved (finetune/src/test/resources/peft/attune_lora/, written by
AttuneSavedLoraTest) with Python's PEFT onto the fixture base, and writes PEFT's logits for the fixture ids to
attune_lora_expected.safetensors, which the Java test compares with Attune's. The same for the sequence classifiers
Attune saved with their score head as modules_to_save (attune_seqcls_lora/, attune_seqcls_prefix/, written by
PeftHeadTest), loaded onto GPT2ForSequenceClassification: attune_seqcls_*_expected.safetensors hold PEFT's classifier
logits. And the LoRA adapter with bias="all" Attune saved (attune_lora_bias_all/, written by LoraBiasAllTest): PEFT
must take every bias of the base from it (it sets them in place), and attune_lora_bias_all_expected.safetensors holds
PEFT's logits. Run after make_fixtures.py:

    /tmp/venv/bin/python scripts/peft/check_attune_adapter.py
"""
import os

import safetensors.torch
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

    path = os.path.join(ROOT, "attune_lora_bias_all")
    saved = safetensors.torch.load_file(os.path.join(path, "adapter_model.safetensors"))
    model = PeftModel.from_pretrained(mf.base_model(), path)
    model.eval()
    params = dict(model.named_parameters())
    biases = [k for k in saved if not k.endswith("lora_A.weight") and not k.endswith("lora_B.weight")]
    assert len(biases) == 13, biases  # ln_1, ln_2, four projections of 2 layers, ln_f
    for key in biases:
        assert torch.equal(params[key], saved[key]), key  # PEFT set the base bias to the saved value
    logits = mf.logits(model)
    merged = mf.logits(model.merge_and_unload())
    assert torch.allclose(logits, merged, atol=1e-5)
    save_file({"logits": logits}, os.path.join(ROOT, "attune_lora_bias_all_expected.safetensors"))
    print("PEFT loaded Attune's bias=all adapter:", len(biases), "biases, logits", tuple(logits.shape))

    for name in ["attune_seqcls_lora", "attune_seqcls_prefix"]:
        model = PeftModel.from_pretrained(mf.classifier_base(), os.path.join(ROOT, name))
        model.eval()
        saved = [n for n, _ in model.named_modules() if n.endswith("score.modules_to_save.default")]
        assert len(saved) == 1, saved  # PEFT took the score head from the file, not a fresh one
        class_logits = mf.class_logits(model)
        save_file({"logits": class_logits}, os.path.join(ROOT, name + "_expected.safetensors"))
        print("PEFT loaded Attune's classifier:", name, saved, "logits", class_logits.tolist())


if __name__ == "__main__":
    main()
