package dev.attune.core.model;

import dev.attune.core.engine.HostBuffers;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/** Token embedding plus learned position embedding: {@code x = wte[id] + wpe[pos]}. */
final class Embedding {

    private final GptModel model;
    final INDArray tokens;         // wte [V, C]
    final INDArray positions;      // wpe [T, C]

    Embedding(GptModel model) {
        this.model = model;
        this.tokens = model.parameter("wte.weight");
        this.positions = model.parameter("wpe.weight");
    }

    /** ids [R], pos [R] -> out [R, C]. */
    void forward(int[] ids, int[] pos, INDArray out) {
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

    /**
     * dout [R, C] -> adds into the token-embedding gradient (the tied LM head wrote it first) and writes the
     * position-embedding gradient (or adds to it when {@code accumulate}).
     */
    void backward(int[] ids, int[] pos, INDArray dout, boolean accumulate) {
        INDArray tokensGrad = model.gradient("wte.weight");
        INDArray positionsGrad = model.gradient("wpe.weight");
        if (!accumulate) {
            positionsGrad.assign(0);
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
