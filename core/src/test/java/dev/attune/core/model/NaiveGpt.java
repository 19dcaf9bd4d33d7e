package dev.attune.core.model;

import dev.attune.core.config.GptConfig;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An independent GPT-2 forward pass in plain double-precision loops, written from the GPT-2 definition
 * (transformers' modeling_gpt2.py) rather than from Attune's code, to check the library's numbers.
 */
final class NaiveGpt {

    private final GptConfig c;
    private final Map<String, double[]> w = new HashMap<>();

    NaiveGpt(GptModel model) {
        this.c = model.config();
        for (String name : model.parameterNames()) {
            w.put(name, model.parameter(name).dup().reshape(-1).toDoubleVector());
        }
    }

    /** Logits [T][V] of one sequence. */
    double[][] logits(int[] ids) {
        int t = ids.length;
        int C = c.embeddingSize();
        double[][] x = hidden(ids);
        double[] wte = w.get("wte.weight");
        double[][] out = new double[t][c.vocabSize()];
        for (int i = 0; i < t; i++) {
            for (int v = 0; v < c.vocabSize(); v++) {
                double s = 0;
                for (int j = 0; j < C; j++) {
                    s += x[i][j] * wte[v * C + j];
                }
                out[i][v] = s;
            }
        }
        return out;
    }

    /** Final hidden states (after ln_f) [T][C] of one sequence. */
    double[][] hidden(int[] ids) {
        int t = ids.length;
        int C = c.embeddingSize();
        double[][] x = new double[t][C];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < C; j++) {
                x[i][j] = w.get("wte.weight")[ids[i] * C + j] + w.get("wpe.weight")[i * C + j];
            }
        }
        for (int l = 0; l < c.layers(); l++) {
            String p = "h." + l + ".";
            double[][] a = attention(layerNorm(x, p + "ln_1"), p);
            x = add(x, a);
            double[][] h = linear(layerNorm(x, p + "ln_2"), p + "mlp.c_fc");
            for (double[] row : h) {
                for (int j = 0; j < row.length; j++) {
                    double v = row[j];
                    row[j] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                }
            }
            x = add(x, linear(h, p + "mlp.c_proj"));
        }
        return layerNorm(x, "ln_f");
    }

    /** Mean next-token cross-entropy of ids[1..] given ids[..n-1]. */
    double meanLoss(int[] ids) {
        double[][] logits = logits(java.util.Arrays.copyOf(ids, ids.length - 1));
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : logits[i]) {
                max = Math.max(max, v);
            }
            double z = 0;
            for (double v : logits[i]) {
                z += Math.exp(v - max);
            }
            sum += Math.log(z) + max - logits[i][ids[i + 1]];
        }
        return sum / logits.length;
    }

    private double[][] attention(double[][] x, String p) {
        int t = x.length;
        int C = c.embeddingSize();
        int H = c.heads();
        int hs = C / H;
        double[][] qkv = linear(x, p + "attn.c_attn");
        double[][] y = new double[t][C];
        for (int h = 0; h < H; h++) {
            for (int i = 0; i < t; i++) {
                double[] scores = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    double s = 0;
                    for (int d = 0; d < hs; d++) {
                        s += qkv[i][h * hs + d] * qkv[j][C + h * hs + d];
                    }
                    scores[j] = s / Math.sqrt(hs);
                    max = Math.max(max, scores[j]);
                }
                double z = 0;
                for (int j = 0; j <= i; j++) {
                    scores[j] = Math.exp(scores[j] - max);
                    z += scores[j];
                }
                for (int j = 0; j <= i; j++) {
                    for (int d = 0; d < hs; d++) {
                        y[i][h * hs + d] += scores[j] / z * qkv[j][2 * C + h * hs + d];
                    }
                }
            }
        }
        return linear(y, p + "attn.c_proj");
    }

    private double[][] linear(double[][] x, String name) {
        double[] weight = w.get(name + ".weight");
        double[] bias = w.get(name + ".bias");
        int in = x[0].length;
        int out = bias.length;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int k = 0; k < in; k++) {
                    s += x[i][k] * weight[k * out + o];
                }
                y[i][o] = s;
            }
        }
        return y;
    }

    private double[][] layerNorm(double[][] x, String name) {
        double[] g = w.get(name + ".weight");
        double[] b = w.get(name + ".bias");
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            double mean = 0;
            for (double v : x[i]) {
                mean += v;
            }
            mean /= x[i].length;
            double var = 0;
            for (double v : x[i]) {
                var += (v - mean) * (v - mean);
            }
            var /= x[i].length;
            y[i] = new double[x[i].length];
            for (int j = 0; j < x[i].length; j++) {
                y[i][j] = (x[i][j] - mean) / Math.sqrt(var + c.layerNormEpsilon()) * g[j] + b[j];
            }
        }
        return y;
    }

    private static double[][] add(double[][] a, double[][] b) {
        double[][] y = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                y[i][j] = a[i][j] + b[i][j];
            }
        }
        return y;
    }

    /** Fills every tensor (layer norms and biases too) with random values, so every weight matters to the test. */
    static void randomize(GptModel model, long seed) {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        for (String name : model.parameterNames()) {
            INDArray p = model.parameter(name);
            double[] v = new double[(int) p.length()];
            boolean norm = name.contains("ln_") && name.endsWith(".weight");
            for (int i = 0; i < v.length; i++) {
                v[i] = norm ? 1 + 0.2 * rng.nextGaussian() : 0.3 * rng.nextGaussian();
            }
            p.assign(org.nd4j.linalg.factory.Nd4j.createFromArray(v).reshape(p.shape()).castTo(p.dataType()));
        }
    }
}
