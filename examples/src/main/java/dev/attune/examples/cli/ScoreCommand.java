package dev.attune.examples.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.engine.Engine;
import dev.attune.core.engine.HostBuffers;
import dev.attune.core.model.ForwardResult;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.Output;
import dev.attune.core.model.TokenBatch;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code attune score}: runs a model over token ids and reports the mean next-token cross-entropy ({@code loss}),
 * the most likely next token after each position ({@code argmax}) and the last position's logits
 * ({@code last_logits}). JSON keys are a stable contract.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Run a model on token ids: mean next-token loss, argmax per position, last logits.")
final class ScoreCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Hugging Face GPT-2 directory (config.json + model.safetensors).")
    private Path model;

    @Option(names = "--adapter", paramLabel = "ADIR",
            description = "Adapter directory (adapter_config.json + adapter_model.safetensors, Attune's or PEFT's).")
    private Path adapter;

    @Option(names = "--ids", required = true, paramLabel = "1,5,9", split = ",",
            description = "Comma-separated token ids.")
    private int[] ids;

    @Mixin
    private OutputOption output;

    @Mixin
    private WeightsOption weights;

    @Override
    public Integer call() throws Exception {
        GptModel m = AdapterOptions.withAdapter(ModelDirectory.model(model, weights.resolve(model)), adapter);
        int n = ids.length;
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) {
            targets[i] = i + 1 < n ? ids[i + 1] : TokenBatch.IGNORE;
        }
        TokenBatch batch = new TokenBatch(1, n, ids.clone(), targets);
        ForwardResult result = m.forward(batch, Output.LOGITS, Output.TARGET_LOGPROBS);  // one pass for all three
        INDArray logits = result.logits().reshape(n, m.config().vocabSize());
        if (!Double.isFinite(logits.sumNumber().doubleValue())) {
            throw new IllegalStateException("the model's logits are not finite (NaN or infinity): its weights or "
                    + "activations are broken");
        }
        double loss = n > 1 ? -result.targetLogProbs()[0] / (n - 1) : Double.NaN;
        int vocab = m.config().vocabSize();
        float[] values = rowMajor(logits);
        int[] argmax = new int[n];
        for (int i = 0; i < n; i++) {
            argmax[i] = argmax(values, i * vocab, vocab);
        }
        double[] last = new double[vocab];
        for (int j = 0; j < vocab; j++) {
            last[j] = values[(n - 1) * vocab + j];
        }

        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            ObjectNode root = OutputOption.object();
            if (Double.isNaN(loss)) {
                root.putNull("loss");
            } else {
                root.put("loss", loss);
            }
            ArrayNode am = root.putArray("argmax");
            for (int a : argmax) {
                am.add(a);
            }
            ArrayNode ll = root.putArray("last_logits");
            for (double v : last) {
                ll.add((float) v);
            }
            OutputOption.print(out, root);
        } else {
            out.printf("loss    %s%n", Double.isNaN(loss) ? "n/a (needs at least 2 ids)" : String.format("%.6f", loss));
            out.printf("argmax  %s%n", java.util.Arrays.toString(argmax));
            int best = argmax[n - 1];
            out.printf("last    %d logits, max %.4f at id %d%n", last.length, last[best], best);
        }
        out.flush();
        return 0;
    }

    /**
     * The index of the largest value, the first one on ties (as ND4J's {@code argMax}). Computed here rather than by
     * ND4J's {@code argMax}, a custom op whose first use costs a short command about a tenth of a second on the way
     * to its output: each custom op takes a random UUID for its name (the JDK's {@code SecureRandom} and security
     * providers start) and ND4J loads its op descriptors (protobuf). The row is finite (checked before).
     */
    static int argmax(float[] row) {
        return argmax(row, 0, row.length);
    }

    /** {@link #argmax(float[])} of the {@code length} values from {@code from} on, as an index from {@code from}. */
    static int argmax(float[] values, int from, int length) {
        int best = 0;
        for (int j = 1; j < length; j++) {
            if (values[from + j] > values[from + best]) {
                best = j;
            }
        }
        return best;
    }

    /**
     * Every value of {@code logits}, row after row, in one bulk copy from host memory where the array is a dense
     * float32 one on the CPU backend. Row by row through ND4J ({@code getRow(i).toFloatVector()}) reads each value
     * through JavaCPP's indexer, one call per value: 20-25 ms of a short score's CPU for three rows of GPT-2's
     * vocabulary (measured 2026-12-02), in code that has not been compiled yet that early.
     */
    static float[] rowMajor(INDArray logits) {
        if (logits.dataType() == DataType.FLOAT && Engine.isCpu() && HostBuffers.isDense(logits)) {
            float[] values = new float[Math.toIntExact(logits.length())];
            HostBuffers.floats(logits).get(values);
            return values;
        }
        return logits.dup('c').castTo(DataType.FLOAT).data().asFloat();
    }
}
