import dev.attune.core.config.GptConfig;
import dev.attune.core.io.DType;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import java.nio.file.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import java.util.Arrays;

/**
 * The Java half of check_interop.py (run as a single-file program: java -cp CLASSPATH Interop.java MODE ...).
 *
 * <pre>
 *   save DIR SEED LAYERS HEADS EMBD VOCAB POSITIONS   create a seeded model and save it as a checkpoint
 *   logits DIR OUT ID...                              load DIR, write its logits [1, T, V] for the ids to OUT
 *   dtypes OUT VALUE...                               write the values as F32, F16 and BF16 tensors
 * </pre>
 */
public class Interop {
    public static void main(String[] args) throws Exception {
        long start = System.nanoTime();
        var engine = dev.attune.core.engine.Engine.init();
        System.out.printf("attune: engine %s started in %.2f s%n", engine, (System.nanoTime() - start) / 1e9);
        switch (args[0]) {
            case "save" -> {
                GptConfig config = GptConfig.builder().layers(Integer.parseInt(args[3])).heads(Integer.parseInt(args[4]))
                        .embeddingSize(Integer.parseInt(args[5])).vocabSize(Integer.parseInt(args[6]))
                        .contextLength(Integer.parseInt(args[7])).bosTokenId(0).eosTokenId(0).build();
                long t0 = System.nanoTime();
                GptModel model = GptModel.create(config, Long.parseLong(args[2]));
                // GPT-2 init leaves biases 0 and LayerNorms 1/0: perturb every tensor so each one is exercised.
                Nd4j.getRandom().setSeed(Long.parseLong(args[2]));
                for (String name : model.parameterNames()) {
                    INDArray p = model.parameter(name);
                    p.addi(Nd4j.rand(DataType.FLOAT, p.shape()).subi(0.5).muli(0.1));
                }
                long t1 = System.nanoTime();
                HfCheckpoint.save(model, Path.of(args[1]));
                long t2 = System.nanoTime();
                System.out.printf("attune: created %,d parameters in %.2f s, saved in %.2f s%n", model.parameterCount(),
                        (t1 - t0) / 1e9, (t2 - t1) / 1e9);
            }
            case "logits" -> {
                long t0 = System.nanoTime();
                GptModel model = HfCheckpoint.load(Path.of(args[1]));
                long t1 = System.nanoTime();
                int[] ids = Arrays.stream(args, 3, args.length).mapToInt(Integer::parseInt).toArray();
                int[] ignore = new int[ids.length];
                Arrays.fill(ignore, TokenBatch.IGNORE);
                var logits = model.logits(TokenBatch.of(new int[][] {ids}, new int[][] {ignore}));
                SafeTensors.writer().add("logits", logits).write(Path.of(args[2]));
                System.out.printf("attune: loaded %s (%,d parameters) in %.2f s%n", args[1], model.parameterCount(),
                        (t1 - t0) / 1e9);
            }
            case "dtypes" -> {
                float[] values = new float[args.length - 2];
                for (int i = 0; i < values.length; i++) {
                    values[i] = Float.parseFloat(args[i + 2]);
                }
                SafeTensors.writer().metadata("format", "pt")
                        .add("f32", values, values.length)
                        .add("f16", DType.F16, values, values.length)
                        .add("bf16", DType.BF16, values, values.length)
                        .write(Path.of(args[1]));
            }
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }
}
