package dev.attune.core.model;

import dev.attune.core.config.GptConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Every buffer one forward (and backward) pass writes, allocated once per shape and reused. For training each layer
 * keeps its own (the backward pass reads them); for inference all layers share one set and the residual stream is
 * updated in place.
 */
final class Activations {

    final int batch;
    final int n;
    final int total;
    final boolean training;

    private final INDArray[] resid;  // training: x_0 .. x_L; inference: one buffer
    private final INDArray[] mid;    // x_l + attention(x_l)
    private final INDArray[] ln1Out;
    private final INDArray[] ln1Mean;
    private final INDArray[] ln1Rstd;
    private final INDArray[] ln2Out;
    private final INDArray[] ln2Mean;
    private final INDArray[] ln2Rstd;
    private final Attention.Acts[] attn;
    private final Mlp.Acts[] mlp;
    final INDArray lnfOut;   // [R, C]
    final INDArray lnfMean;  // [R]
    final INDArray lnfRstd;  // [R]
    final KvCache.Layer[] kv;  // training only: this pass's keys and values, capacity n
    INDArray embeddingMask;

    // Backward scratch (training only), shared by all layers.
    INDArray dResid;  // [R, C] gradient of the residual stream
    INDArray dLn;     // [R, C] gradient of a layer norm's output
    Attention.Grads attnGrads;
    Mlp.Grads mlpGrads;
    INDArray logits;  // [R, V]

    Activations(GptConfig c, DataType t, int batch, int n, int total, boolean training) {
        this.batch = batch;
        this.n = n;
        this.total = total;
        this.training = training;
        long rows = (long) batch * n;
        long C = c.embeddingSize();
        long bh = (long) batch * c.heads();
        int L = c.layers();
        int sets = training ? L : 1;
        resid = new INDArray[training ? L + 1 : 1];
        for (int i = 0; i < resid.length; i++) {
            resid[i] = Nd4j.create(t, rows, C);
        }
        mid = new INDArray[sets];
        ln1Out = new INDArray[sets];
        ln1Mean = new INDArray[sets];
        ln1Rstd = new INDArray[sets];
        ln2Out = new INDArray[sets];
        ln2Mean = new INDArray[sets];
        ln2Rstd = new INDArray[sets];
        attn = new Attention.Acts[sets];
        mlp = new Mlp.Acts[sets];
        for (int l = 0; l < sets; l++) {
            mid[l] = training ? Nd4j.create(t, rows, C) : resid[0];
            ln1Out[l] = Nd4j.create(t, rows, C);
            ln1Mean[l] = Nd4j.create(t, rows);
            ln1Rstd[l] = Nd4j.create(t, rows);
            ln2Out[l] = training ? Nd4j.create(t, rows, C) : ln1Out[l];
            ln2Mean[l] = training ? Nd4j.create(t, rows) : ln1Mean[l];
            ln2Rstd[l] = training ? Nd4j.create(t, rows) : ln1Rstd[l];
            Attention.Acts a = new Attention.Acts();
            a.qkv = Nd4j.create(t, rows, 3 * C);
            a.q = Nd4j.create(t, bh, n, c.headSize());
            a.probs = Nd4j.create(t, bh, n, total);
            a.yHeads = Nd4j.create(t, bh, n, c.headSize());
            a.y = Nd4j.create(t, rows, C);
            a.out = Nd4j.create(t, rows, C);
            attn[l] = a;
            Mlp.Acts m = new Mlp.Acts();
            m.h = Nd4j.create(t, rows, c.innerSize());
            m.tanh = Nd4j.create(t, rows, c.innerSize());
            m.g = Nd4j.create(t, rows, c.innerSize());
            m.out = Nd4j.create(t, rows, C);
            mlp[l] = m;
        }
        lnfOut = Nd4j.create(t, rows, C);
        lnfMean = Nd4j.create(t, rows);
        lnfRstd = Nd4j.create(t, rows);
        if (training) {
            kv = new KvCache.Layer[L];
            for (int l = 0; l < L; l++) {
                kv[l] = new KvCache.Layer(batch, c.heads(), n, c.headSize(), t);
            }
            dResid = Nd4j.create(t, rows, C);
            dLn = Nd4j.create(t, rows, C);
            attnGrads = new Attention.Grads();
            attnGrads.dy = Nd4j.create(t, rows, C);
            attnGrads.dyHeads = Nd4j.create(t, bh, n, c.headSize());
            attnGrads.dprobs = Nd4j.create(t, bh, n, total);
            attnGrads.dq = Nd4j.create(t, bh, n, c.headSize());
            attnGrads.dk = Nd4j.create(t, bh, total, c.headSize());
            attnGrads.dv = Nd4j.create(t, bh, total, c.headSize());
            attnGrads.dqkv = Nd4j.create(t, rows, 3 * C);
            mlpGrads = new Mlp.Grads();
            mlpGrads.dg = Nd4j.create(t, rows, c.innerSize());
            logits = Nd4j.create(t, rows, c.vocabSize());
        } else {
            kv = null;
        }
    }

    boolean fits(int batch, int n, int total) {
        return this.batch == batch && this.n == n && this.total == total;
    }

    private int set(int layer) {
        return training ? layer : 0;
    }

    INDArray resid(int layer) {
        return resid[training ? layer : 0];
    }

    INDArray mid(int layer) {
        return mid[set(layer)];
    }

    INDArray ln1Out(int layer) {
        return ln1Out[set(layer)];
    }

    INDArray ln1Mean(int layer) {
        return ln1Mean[set(layer)];
    }

    INDArray ln1Rstd(int layer) {
        return ln1Rstd[set(layer)];
    }

    INDArray ln2Out(int layer) {
        return ln2Out[set(layer)];
    }

    INDArray ln2Mean(int layer) {
        return ln2Mean[set(layer)];
    }

    INDArray ln2Rstd(int layer) {
        return ln2Rstd[set(layer)];
    }

    Attention.Acts attn(int layer) {
        return attn[set(layer)];
    }

    Mlp.Acts mlp(int layer) {
        return mlp[set(layer)];
    }
}
