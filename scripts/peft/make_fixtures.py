#!/usr/bin/env python3
"""Makes the PEFT interop fixtures under finetune/src/test/resources/peft/ (run once, results committed).

A tiny random GPT-2 base and one adapter per PEFT method Attune reads, each saved by PEFT's own save_pretrained,
with non-trivial weights (perturbed after PEFT's init, so LoRA's B is not zero), and PEFT's logits for fixed ids.
The seqcls_* adapters sit on GPT2ForSequenceClassification (task_type SEQ_CLS) and carry its `score` head as
modules_to_save; their expected values are the classifier's logits [B, NUM_LABELS].

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install peft transformers torch safetensors
    /tmp/venv/bin/python scripts/peft/make_fixtures.py [OUT_DIR]

Versions used for the committed files are written to OUT_DIR/versions.json. PEFT keeps target_modules as a set, so
their order in adapter_config.json changes from run to run (Python's hash seed); the committed configs keep the order
of the run that made them (git checkout them after a rerun: the tensors and logits come out byte-identical).
"""
import json
import os
import shutil
import sys

import peft
import safetensors
import torch
import transformers
from peft import (AdaLoraConfig, IA3Config, LoraConfig, PrefixTuningConfig, PromptTuningConfig, TaskType,
                  get_peft_model, PeftModel)
import safetensors.torch
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "finetune", "src",
                                                         "test", "resources", "peft")
OUT = os.path.abspath(OUT)
IDS = torch.tensor([[5, 17, 42, 3, 99, 0, 64, 23], [1, 2, 3, 4, 5, 6, 7, 8]])
PROMPT = torch.tensor([[11, 12, 13, 14]])
NEW_TOKENS = 6
NUM_LABELS = 3


def base_model():
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=100, n_positions=32, n_embd=32, n_layer=2, n_head=4, bos_token_id=0,
                     eos_token_id=0, initializer_range=0.3, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    m = GPT2LMHeadModel(cfg)
    m.eval()
    return m


def classifier_base():
    """The fixture base under GPT2ForSequenceClassification (pad id 0); its score head is set by perturb()."""
    torch.manual_seed(1)
    m = GPT2ForSequenceClassification.from_pretrained(os.path.join(OUT, "base"), num_labels=NUM_LABELS,
                                                      pad_token_id=0)
    m.name_or_path = None  # keeps this machine's path out of the saved adapter_config.json
    m.eval()
    return m


def class_logits(model, ids=IDS):
    with torch.no_grad():
        return model(input_ids=ids).logits.contiguous().float()


def perturb(model, names, scale, seed, around=0.0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if any(k in n for k in names):
                p.copy_(around + scale * torch.randn(p.shape, generator=g))


def logits(model, ids=IDS):
    with torch.no_grad():
        out = model(input_ids=ids).logits
    return out[:, -ids.shape[1]:, :].contiguous().float()


def greedy(model):
    with torch.no_grad():
        out = model.generate(input_ids=PROMPT, attention_mask=torch.ones_like(PROMPT), max_new_tokens=NEW_TOKENS,
                             do_sample=False, pad_token_id=0)
    return out[0, -NEW_TOKENS:].tolist()


def main():
    os.makedirs(OUT, exist_ok=True)  # attune_* files in OUT are Attune's (check_attune_adapter.py): kept
    expected = {"base": logits(base_model())}
    base_model().save_pretrained(os.path.join(OUT, "base"))
    generations = {"base": greedy(base_model())}

    def make(name, config, perturbations, merged=False, generate=False, disabled=False):
        shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
        model = get_peft_model(base_model(), config)
        for i, (keys, scale, around) in enumerate(perturbations):
            perturb(model, keys, scale, 100 + i, around)
        model.eval()
        expected[name] = logits(model)
        if generate:
            generations[name] = greedy(model)
        if disabled:
            with model.disable_adapter():
                expected[name + ".disabled"] = logits(model)
        model.save_pretrained(os.path.join(OUT, name))
        os.remove(os.path.join(OUT, name, "README.md"))  # a generated model card, not needed
        # the saved adapter must reproduce the logits when PEFT loads it back
        again = PeftModel.from_pretrained(base_model(), os.path.join(OUT, name))
        again.eval()
        assert torch.allclose(logits(again), expected[name], atol=1e-5), name
        if merged:
            expected[name + ".merged"] = logits(model.merge_and_unload())
        print(name, {k: tuple(v.shape) for k, v in
                     safetensors.torch.load_file(os.path.join(OUT, name, "adapter_model.safetensors")).items()})

    make("lora", LoraConfig(task_type=TaskType.CAUSAL_LM, r=4, lora_alpha=8, lora_dropout=0.0,
                            target_modules=["c_attn", "c_proj"], fan_in_fan_out=True),
         [(["lora_B"], 0.1, 0.0)], merged=True, generate=True)
    make("lora_rslora", LoraConfig(task_type=TaskType.CAUSAL_LM, r=2, lora_alpha=4, use_rslora=True,
                                   target_modules=["mlp.c_fc"], layers_to_transform=[1], bias="lora_only",
                                   fan_in_fan_out=True),
         [(["lora_B"], 0.1, 0.0), (["c_fc.base_layer.bias"], 0.1, 0.0)], merged=True)
    # bias="all" trains every bias of the base in place: LayerNorms, untargeted projections (saved as
    # ...c_proj.bias) and the targeted ones (...c_attn.base_layer.bias); PEFT's disable_adapter() keeps them
    make("lora_bias_all", LoraConfig(task_type=TaskType.CAUSAL_LM, r=2, lora_alpha=6, target_modules=["c_attn"],
                                     bias="all", fan_in_fan_out=True),
         [(["lora_B"], 0.1, 0.0), (["bias"], 0.1, 0.0)], merged=True, generate=True, disabled=True)
    make("ia3", IA3Config(task_type=TaskType.CAUSAL_LM, target_modules=["c_attn", "mlp.c_proj"],
                          feedforward_modules=["mlp.c_proj"], fan_in_fan_out=True),
         [(["ia3_l"], 0.2, 1.0)], merged=True, generate=True)
    make("prompt", PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=3), [], generate=True)
    make("prefix", PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=3), [], generate=True)
    make("adalora", AdaLoraConfig(task_type=TaskType.CAUSAL_LM, init_r=4, target_r=2, lora_alpha=8,
                                  target_modules=["c_attn"], total_step=100, fan_in_fan_out=True),
         [(["lora_E"], 0.3, 0.0)])

    def make_classifier(name, config, perturbations):
        shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
        model = get_peft_model(classifier_base(), config)
        for i, (keys, scale, around) in enumerate(perturbations):
            perturb(model, keys, scale, 200 + i, around)
        model.eval()
        expected[name] = class_logits(model)
        model.save_pretrained(os.path.join(OUT, name))
        os.remove(os.path.join(OUT, name, "README.md"))
        again = PeftModel.from_pretrained(classifier_base(), os.path.join(OUT, name))
        again.eval()
        assert torch.allclose(class_logits(again), expected[name], atol=1e-5), name
        print(name, {k: tuple(v.shape) for k, v in
                     safetensors.torch.load_file(os.path.join(OUT, name, "adapter_model.safetensors")).items()})

    make_classifier("seqcls_lora", LoraConfig(task_type=TaskType.SEQ_CLS, r=4, lora_alpha=8, lora_dropout=0.0,
                                              target_modules=["c_attn"], fan_in_fan_out=True),
                    [(["lora_B"], 0.1, 0.0), (["score"], 0.5, 0.0)])
    make_classifier("seqcls_prefix", PrefixTuningConfig(task_type=TaskType.SEQ_CLS, num_virtual_tokens=3),
                    [(["score"], 0.5, 0.0)])

    save_file(expected, os.path.join(OUT, "expected_logits.safetensors"))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"ids": IDS.tolist(), "prompt": PROMPT[0].tolist(), "greedy": generations,
                   "versions": {"peft": peft.__version__, "transformers": transformers.__version__,
                                "torch": torch.__version__, "safetensors": safetensors.__version__}}, f, indent=1)


if __name__ == "__main__":
    main()
