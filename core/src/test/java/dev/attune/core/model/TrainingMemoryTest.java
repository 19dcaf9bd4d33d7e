package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.attune.core.config.GptConfig;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a training pass keeps for its backward pass: the LM head in row chunks gives the loss and gradients of the
 * whole head, and a frozen base keeps a projection's input only where an adapter reads it (not for a bias shift).
 */
class TrainingMemoryTest {

    private static final GptConfig CONFIG = GptConfig.builder()
            .vocabSize(37).contextLength(12).embeddingSize(16).heads(2).layers(2).innerSize(24).dropout(0.0)
            .bosTokenId(0).eosTokenId(0).build();
    private static final TokenBatch BATCH = TokenBatch.of(
            new int[][] {{3, 17, 22, 5, 36, 0}, {1, 2, 3, 4, 5, 6}},
            new int[][] {{17, 22, 5, 36, 0, 9}, {2, 3, 4, 5, -1, -1}});

    @AfterEach
    void wholeHead() {
        GptModel.trainingHeadChunkRows = 0;
    }

    private static GptModel model() {
        GptModel m = GptModel.create(CONFIG, 1, DataType.DOUBLE);
        NaiveGpt.randomize(m, 21);
        return m;
    }

    @Test
    void theLmHeadInChunksGivesTheLossAndGradientsOfTheWholeHead() {
        GptModel m = model();
        int counted = BATCH.validTargets();
        double whole = m.forwardBackward(BATCH, counted, false, 0);
        INDArray wholeGradients = m.gradients().dup();
        for (int rows : new int[] {5, 1}) {   // 12 rows at most 5 a chunk: 4, 4, 4; at most 1: twelve of 1
            GptModel.trainingHeadChunkRows = rows;
            double chunked = m.forwardBackward(BATCH, counted, false, 0);
            assertThat(chunked).isCloseTo(whole, offset(1e-12));
            assertThat(m.gradients().sub(wholeGradients).amaxNumber().doubleValue()).as("chunks of %d", rows)
                    .isLessThan(1e-12);
        }
        // Accumulating two passes in chunks doubles the gradients, the tied wte's included.
        m.forwardBackward(BATCH, counted, true, 0);
        assertThat(m.gradients().sub(wholeGradients.mul(2)).amaxNumber().doubleValue()).isLessThan(1e-12);
    }

    @Test
    void aFrozenBaseKeepsOnlyTheProjectionInputsItsAdaptersRead() {
        GptModel m = model();
        TestAdapters.LowRank lora = new TestAdapters.LowRank(16, 48, 3, 10);
        m.adapters().wrap(0, Projection.C_ATTN, lora);
        int counted = BATCH.validTargets();
        m.forwardBackward(BATCH, counted, false, 0);
        long full = m.trainingActivationBytes();
        INDArray trainedGrad = lora.a.grad.dup();
        m.freeze();
        m.forwardBackward(BATCH, counted, false, 0);
        long frozen = m.trainingActivationBytes();
        // R = 12 rows, C = 16, inner 24. Training the base keeps, per layer, ln_1's and ln_2's outputs and attention's
        // merged heads [R, C] and the GELU output [R, inner]. Frozen, only layer 0's ln_1 output (the adapter's input)
        // is kept; every other of those is one shared [R, C] or [R, inner] buffer.
        long rc = 12 * 16;
        long rInner = 12 * 24;
        long fullKept = 2 * (3 * rc + rInner);
        long frozenKept = rc + rc + rInner;   // layer 0's ln1Out, plus the shared [R, C] and [R, inner]
        assertThat(full - frozen).isEqualTo((fullKept - frozenKept) * Double.BYTES);
        assertThat(lora.a.grad.sub(trainedGrad).amaxNumber().doubleValue()).isLessThan(1e-12);
        for (TestAdapters.Tensor t : List.of(lora.a, lora.b)) {
            assertThat(t.grad.norm1Number().doubleValue()).as(t.name).isGreaterThan(0);
        }
    }

    @Test
    void anAdapterThatDoesNotReadItsInputKeepsNothingMoreAndStillGetsItsGradient() {
        GptModel m = model();
        m.adapters().wrap(0, Projection.C_ATTN, new TestAdapters.LowRank(16, 48, 3, 10));
        m.freeze();
        int counted = BATCH.validTargets();
        m.forwardBackward(BATCH, counted, false, 0);
        long loraOnly = m.trainingActivationBytes();
        // bias shifts on every other projection of both layers: their inputs are not kept
        List<TestAdapters.Shift> shifts = new java.util.ArrayList<>();
        for (int l = 0; l < 2; l++) {
            for (Projection p : Projection.values()) {
                if (l > 0 || p != Projection.C_ATTN) {
                    TestAdapters.Shift shift = new TestAdapters.Shift(p.outputSize(CONFIG), 30 + shifts.size());
                    m.adapters().wrap(l, p, shift);
                    shifts.add(shift);
                }
            }
        }
        m.forwardBackward(BATCH, counted, false, 0);
        assertThat(m.trainingActivationBytes()).isEqualTo(loraOnly);
        for (TestAdapters.Shift shift : shifts) {
            // y + d passes dy through unchanged, so d's gradient is the column sum of the output's gradient
            assertThat(shift.d.grad.norm1Number().doubleValue()).isGreaterThan(0);
        }
        // the same gradients as with the inputs kept (the base training keeps every input)
        List<INDArray> frozenGrads = shifts.stream().map(s -> s.d.grad.dup()).toList();
        m.unfreeze();
        m.forwardBackward(BATCH, counted, false, 0);
        assertThat(m.trainingActivationBytes()).isGreaterThan(loraOnly);
        for (int i = 0; i < shifts.size(); i++) {
            assertThat(shifts.get(i).d.grad.sub(frozenGrads.get(i)).amaxNumber().doubleValue()).isLessThan(1e-12);
        }
    }
}
