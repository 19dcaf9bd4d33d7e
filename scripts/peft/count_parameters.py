#!/usr/bin/env python3
"""PEFT's trainable and total parameter counts for GPT-2 small with LoRA r=8 on c_attn, per bias mode: the numbers
LoraConfigTest expects from PeftModel.ParameterCount. The model is built on the meta device (shapes only).

    /tmp/venv/bin/python scripts/peft/count_parameters.py
    # PEFT 0.21.0: none 294912 124734720 / all 397056 124734720 / lora_only 322560 124734720
"""
import torch
from peft import LoraConfig, get_peft_model
from transformers import GPT2Config, GPT2LMHeadModel


def main():
    torch.set_default_device("meta")
    for bias in ["none", "all", "lora_only"]:
        model = get_peft_model(GPT2LMHeadModel(GPT2Config()),
                               LoraConfig(r=8, target_modules=["c_attn"], bias=bias, fan_in_fan_out=True))
        trainable, total = model.get_nb_trainable_parameters()
        print(bias, trainable, total)


if __name__ == "__main__":
    main()
