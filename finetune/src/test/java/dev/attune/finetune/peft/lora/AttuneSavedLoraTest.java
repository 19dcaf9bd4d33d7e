package dev.attune.finetune.peft.lora;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.Fixtures;
import dev.attune.finetune.peft.TestSteps;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The other direction of the interop: an adapter Attune saved (committed as {@code peft/attune_lora/}), loaded by
 * Python's PEFT in scripts/peft/check_attune_adapter.py, whose logits are committed in
 * {@code attune_lora_expected.safetensors}. This test makes the adapter again and checks that Attune still writes
 * exactly those files, and that Attune's logits for it are PEFT's.
 *
 * <p>To regenerate the committed adapter: see {@link Fixtures#assertSameAsCommitted}.
 */
class AttuneSavedLoraTest {

    @TempDir
    Path dir;

    static Lora make(GptModel base) {
        LoraConfig config = LoraConfig.builder().rank(3).alpha(5).dropout(0.1).rsLora(true)
                .bias(LoraConfig.Bias.LORA_ONLY).targets("attn.c_proj", "c_fc").build();
        Lora lora = config.create(base.config(), 11);
        for (var t : lora.tensors().tensors()) {
            if (!t.name().endsWith("lora_A.weight")) {
                INDArray p = lora.tensors().parameter(t.name());
                p.assign(TestSteps.random(t.offset(), 0.2, p.shape()).castTo(DataType.FLOAT));
            }
        }
        return lora;
    }

    @Test
    void attuneWritesTheAdapterPeftLoadedAndComputesPeftsLogitsForIt() throws IOException {
        GptModel base = Fixtures.base();
        Lora lora = make(base);
        AdapterFiles.write(dir, lora, base);
        Fixtures.assertSameAsCommitted(dir, "attune_lora");
        Path committed = Fixtures.adapter("attune_lora");
        INDArray peftLogits;
        try (SafeTensors f = SafeTensors.open(Fixtures.root().resolve("attune_lora_expected.safetensors"))) {
            peftLogits = f.read("logits");
        }
        Lora loaded = LoraFilesTest.read(committed, base);
        loaded.merge(base);
        assertThat(Fixtures.maxAbsDiff(base.logits(Fixtures.batch()), peftLogits)).isLessThan(1e-4);
        assertThat(Fixtures.maxAbsDiff(peftLogits, Fixtures.logits("base"))).isGreaterThan(0.1);
    }
}
