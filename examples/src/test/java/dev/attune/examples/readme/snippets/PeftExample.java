package dev.attune.examples.readme.snippets;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.data.PromptCompletionData;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.Generator;
import dev.attune.core.train.LmTraining;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import java.nio.file.Path;

public class PeftExample {
    public static void main(String[] args) throws Exception {
        Path base = Path.of("runs/quickstart/model");                  // or the directory save_pretrained wrote
        Pretrained p = Pretrained.load(base);
        PeftModel peft = Peft.lora().rank(8).alpha(16).dropout(0.05).targets("c_attn", "c_proj").build()
                .apply(p.model());                                      // freezes the base, attaches the adapter
        System.out.println(peft.trainableParameters());  // GPT-2 small, r=8 on c_attn alone: 294,912 (0.2364%)
        PromptCompletionData pairs = PromptCompletionData.readJsonl(
                Path.of("examples/data/license-qa/train.jsonl"), p.tokenizer());
        LmTraining.builder().trainable(peft).data(pairs).batchSize(4).contextLength(64).learningRate(1e-3)
                .maxSteps(10).progress(false).build().run();            // optimizer state for the adapter only
        peft.save(Path.of("runs/lora-java"));      // PEFT's files; PeftModel.from_pretrained(base, dir) reads them
        Generator g = Generator.of(peft.model(), p.tokenizer());
        System.out.println(g.generate("Licensed under the", GenerationConfig.greedy(20)).text());
        PeftModel again = Peft.load(HfCheckpoint.load(base), Path.of("runs/lora-java"));  // Attune's or PEFT's
        peft.merge();
        peft.unmerge();                           // fold into the weights and back (the touched tensors kept aside)
        peft.saveMerged(Path.of("runs/lora-java-merged"));              // a plain Hugging Face checkpoint
        again.loadAdapter("other", Path.of("runs/lora-java"));
        again.setActiveAdapter("other");
        again.disableAdapters();                                        // the base model alone
        System.out.println(again);
    }
}
