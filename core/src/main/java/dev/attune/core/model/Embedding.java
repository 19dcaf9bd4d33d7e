package dev.attune.core.model;

import dev.attune.core.engine.HostBuffers;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Token embedding plus learned position embedding: {@code x = wte[id] + wpe[pos]}. A negative id {@code -(k+1)} stands
 * for row {@code k} of a {@link SoftPrompt}'s embeddings instead of a token.
 */
final class Embedding {

    private final Param tokenParam;
    private final Param positionParam;
    final INDArray tokens;         // wte [V, C]; null when compressed
    final INDArray positions;      // wpe [T, C]
    private final CompressedTensor compressedTokens;  // null: float32 wte

    Embedding(Param tokens, Param positions, CompressedTensor compressedTokens) {
        this.tokenParam = tokens;
        this.positionParam = positions;
        this.tokens = tokens.value;
        this.positions = positions.value;
        this.compressedTokens = compressedTokens;
    }

    /** The id that stands for soft-prompt row {@code k}. */
    static int virtualId(int k) {
        return -(k + 1);
    }

    /** ids [R], pos [R] -> out [R, C]; {@code soft} serves the negative ids (null when there are none). */
    void forward(int[] ids, int[] pos, INDArray out, SoftPrompt soft) {
        if (compressedTokens != null) {
            forwardCompressed(ids, pos, out, soft);
            return;
        }
        if (soft != null) {
            forwardWithSoftPrompt(ids, pos, out, soft.embeddings());
            return;
        }
        if (Ops.hostKernels(out.dataType())) {
            int c = (int) out.columns();
            FloatBuffer wte = HostBuffers.floats(tokens);
            FloatBuffer wpe = HostBuffers.floats(positions);
            FloatBuffer o = HostBuffers.floats(out);
            float[] a = new float[c];
            float[] b = new float[c];
            for (int r = 0; r < ids.length; r++) {
                wte.get(ids[r] * c, a);
                wpe.get(pos[r] * c, b);
                for (int i = 0; i < c; i++) {
                    a[i] += b[i];
                }
                o.put(r * c, a);
            }
            return;
        }
        out.assign(Nd4j.pullRows(tokens, 1, ids)).addi(Nd4j.pullRows(positions, 1, pos));
    }

    /** The token rows dequantized one by one from the compressed wte (soft-prompt rows as they are). */
    private void forwardCompressed(int[] ids, int[] pos, INDArray out, SoftPrompt soft) {
        int c = (int) out.columns();
        float[] rows = new float[ids.length * c];
        float[] position = new float[c];
        FloatBuffer wpe = HostBuffers.floats(positions);
        for (int r = 0; r < ids.length; r++) {
            if (ids[r] >= 0) {
                compressedTokens.dequantizeRow(ids[r], rows, r * c);
            } else {
                float[] virtual = soft.embeddings().getRow(-ids[r] - 1).castTo(DataType.FLOAT).toFloatVector();
                System.arraycopy(virtual, 0, rows, r * c, c);
            }
            wpe.get(pos[r] * c, position);
            for (int i = 0; i < c; i++) {
                rows[r * c + i] += position[i];
            }
        }
        HostBuffers.floats(out).put(0, rows);
    }

    private void forwardWithSoftPrompt(int[] ids, int[] pos, INDArray out, INDArray soft) {
        int[] tokenIds = ids.clone();
        for (int r = 0; r < ids.length; r++) {
            tokenIds[r] = Math.max(ids[r], 0);
        }
        out.assign(Nd4j.pullRows(tokens, 1, tokenIds)).addi(Nd4j.pullRows(positions, 1, pos));
        for (int r = 0; r < ids.length; r++) {
            if (ids[r] < 0) {
                INDArray row = out.getRow(r);
                row.assign(soft.getRow(-ids[r] - 1).castTo(out.dataType())).addi(positions.getRow(pos[r]));
            }
        }
    }

    /**
     * Gradient of the soft-prompt rows: the rows of dout [R, C] whose ids are negative, summed per virtual token into
     * [P, C].
     */
    static INDArray softPromptGradient(int[] ids, INDArray dout, int length) {
        INDArray d = Nd4j.zeros(dout.dataType(), length, dout.columns());
        for (int r = 0; r < ids.length; r++) {
            if (ids[r] < 0) {
                d.getRow(-ids[r] - 1).addi(dout.getRow(r));
            }
        }
        return d;
    }

    /**
     * dout [R, C] -> adds into the token-embedding gradient (the tied LM head wrote it first) and writes the
     * position-embedding gradient (or adds to it when {@code accumulate}); nothing while the base is frozen.
     */
    void backward(int[] ids, int[] pos, INDArray dout, boolean accumulate) {
        INDArray tokensGrad = tokenParam.grad();
        INDArray positionsGrad = positionParam.grad();
        if (tokensGrad == null) {
            return;
        }
        boolean virtual = false;
        for (int id : ids) {
            virtual |= id < 0;
        }
        if (virtual) {
            // soft-prompt rows have no token row to update; their position rows still learn
            int[] real = java.util.Arrays.stream(ids).map(id -> Math.max(id, 0)).toArray();
            INDArray masked = dout.dup();
            for (int r = 0; r < ids.length; r++) {
                if (ids[r] < 0) {
                    masked.getRow(r).assign(0);
                }
            }
            if (!accumulate) {
                positionsGrad.assign(0);
            }
            scatterAdd(tokensGrad, real, masked);
            scatterAdd(positionsGrad, pos, dout);
            return;
        }
        if (!accumulate) {
            Ops.zero(positionsGrad);
        }
        if (Ops.hostKernels(dout.dataType())) {
            int c = (int) dout.columns();
            FloatBuffer dwte = HostBuffers.floats(tokensGrad);
            FloatBuffer dwpe = HostBuffers.floats(positionsGrad);
            FloatBuffer d = HostBuffers.floats(dout);
            float[] g = new float[c];
            float[] acc = new float[c];
            for (int r = 0; r < ids.length; r++) {
                d.get(r * c, g);
                addRow(dwte, ids[r] * c, g, acc);
                addRow(dwpe, pos[r] * c, g, acc);
            }
            return;
        }
        scatterAdd(tokensGrad, ids, dout);
        scatterAdd(positionsGrad, pos, dout);
    }

    private static void addRow(FloatBuffer target, int offset, float[] g, float[] scratch) {
        target.get(offset, scratch);
        for (int i = 0; i < g.length; i++) {
            scratch[i] += g[i];
        }
        target.put(offset, scratch);
    }

    private static void scatterAdd(INDArray target, int[] rows, INDArray updates) {
        INDArray idx = Nd4j.createFromArray(rows);
        Nd4j.exec(DynamicCustomOp.builder("scatter_add")
                .addInputs(target, idx, updates)
                .addOutputs(target)
                .build());
    }
}
