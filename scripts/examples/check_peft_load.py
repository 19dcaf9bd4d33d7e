"""Loads an adapter an example saved (LoRA + modules_to_save ["wte"]) with Python's PEFT and greedy-decodes a prompt,
to compare with what the Attune example printed.

    python scripts/examples/check_peft_load.py examples/base-model runs/support/adapter "PROMPT" [max_new_tokens]

Prints PEFT's version, whether the output layer is still tied to the trained embedding, and the greedy continuation.
"""
import sys

import peft
import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer, GPT2LMHeadModel

base_dir, adapter_dir, prompt = sys.argv[1], sys.argv[2], sys.argv[3].encode().decode("unicode_escape")
max_new = int(sys.argv[4]) if len(sys.argv) > 4 else 40
model = GPT2LMHeadModel.from_pretrained(base_dir)
tuned = peft.PeftModel.from_pretrained(model, adapter_dir).eval()
saved = load_file(f"{adapter_dir}/adapter_model.safetensors")["base_model.model.transformer.wte.weight"]
inner = tuned.base_model.model
emb = inner.get_input_embeddings().weight
head = inner.get_output_embeddings().weight
print("peft", peft.__version__)
print("input embedding equals the saved wte:", torch.equal(emb.detach(), saved))
print("output layer equals the saved wte:", torch.equal(head.detach(), saved))
tok = AutoTokenizer.from_pretrained(base_dir)
ids = tok(prompt, return_tensors="pt").input_ids
with torch.no_grad():
    out = tuned.generate(input_ids=ids, max_new_tokens=max_new, do_sample=False, pad_token_id=tok.eos_token_id or 0)
print("greedy:", repr(tok.decode(out[0, ids.shape[1]:]).split("\n")[0].strip()))
