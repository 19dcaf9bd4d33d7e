/**
 * Full fine-tuning and parameter-efficient methods (LoRA, AdaLoRA, adapters, prefix, prompt, IA3), PEFT adapter
 * files, task heads and Tribuo integration. Filled by the fine-tuning issues; the module exists so the build
 * layout is settled.
 */
package dev.attune.finetune;
