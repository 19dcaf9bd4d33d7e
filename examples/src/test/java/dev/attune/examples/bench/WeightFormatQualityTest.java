package dev.attune.examples.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.model.WeightFormat;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * What compression costs the shipped base model on text it was not trained on: the bounds BENCHMARKS.md's quality
 * numbers stand on (bf16 tight, int8 looser).
 */
class WeightFormatQualityTest {

    @Test
    void compressedBaseModelKeepsItsPerplexityAndLogits() throws Exception {
        Pretrained base = Pretrained.load(Path.of("base-model"));
        int[][] windows = heldOutWindows(base);
        WeightFormatBenches.Quality bf16 = WeightFormatBenches.quality(base.model().compressed(WeightFormat.BF16),
                base.model(), windows);
        WeightFormatBenches.Quality int8 = WeightFormatBenches.quality(base.model().compressed(WeightFormat.INT8),
                base.model(), windows);
        assertThat(bf16.tokens()).isEqualTo(2 * 255);
        double ppl = bf16.referencePerplexity();
        assertThat(ppl).isBetween(5.0, 1000.0);           // a trained model: far below the vocabulary's 4096
        assertThat(Math.abs(bf16.perplexity() / ppl - 1)).as("bf16 perplexity %s vs %s", bf16.perplexity(), ppl)
                .isLessThan(0.005);
        assertThat(Math.abs(int8.perplexity() / ppl - 1)).as("int8 perplexity %s vs %s", int8.perplexity(), ppl)
                .isLessThan(0.01);
        assertThat(bf16.maxLogitDiff() / bf16.maxLogit()).as("bf16 max |logit diff| %s", bf16.maxLogitDiff())
                .isGreaterThan(0).isLessThan(0.005);
        assertThat(int8.maxLogitDiff() / int8.maxLogit()).as("int8 max |logit diff| %s", int8.maxLogitDiff())
                .isGreaterThan(0).isLessThan(0.01);
    }

    /** Two windows of the held-out end of the base model's corpus (the text the weights-quality bench reads). */
    private static int[][] heldOutWindows(Pretrained base) throws Exception {
        return WeightFormatBenches.heldOut(base, 2, Path.of("data", "corpus", "jargon-4.4.7.txt.gz"));
    }
}
