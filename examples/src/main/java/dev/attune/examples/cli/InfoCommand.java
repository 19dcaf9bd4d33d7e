package dev.attune.examples.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.config.GptConfig;
import dev.attune.core.engine.Engine;
import dev.attune.core.io.DType;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.io.TensorInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code attune info --model DIR}: what a checkpoint directory holds (config, parameter count, tensor types as
 * stored, file sizes) and what the engine runs on, read from the headers without loading the weights. A checkpoint
 * that does not match its config fails here with the same message loading would give.
 */
@Command(name = "info",
        mixinStandardHelpOptions = true,
        description = {"Describe a Hugging Face GPT-2 checkpoint directory (config.json + model.safetensors) "
                + "without loading its weights, and the BLAS and threads in use."})
public final class InfoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "checkpoint directory")
    private Path model;

    @Mixin
    private OutputOption output;

    @Option(names = "--tensors", description = "also list every tensor with its type and shape")
    private boolean tensors;

    @Override
    public Integer call() throws Exception {
        HfCheckpoint.Summary summary = HfCheckpoint.inspect(model);
        Engine.Info engine = Engine.init();
        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            OutputOption.printPretty(out, json(summary, engine));
        } else {
            out.print(text(summary, engine));
            out.flush();
        }
        return 0;
    }

    private ObjectNode json(HfCheckpoint.Summary s, Engine.Info engine) throws IOException {
        ObjectNode o = OutputOption.object();
        o.put("directory", s.directory().toString());
        o.set("config", OutputOption.parse(s.config().toJson()));
        o.put("parameter_count", s.parameterCount());
        o.put("tensor_count", s.tensors().size());
        ObjectNode dtypes = o.putObject("dtypes");
        s.dtypes().forEach((type, count) -> dtypes.put(type.name(), count));
        ArrayNode files = o.putArray("weight_files");
        for (Path f : s.weightFiles()) {
            files.addObject().put("file", f.toString()).put("bytes", Files.size(f));
        }
        o.put("total_bytes", s.weightBytes());
        ObjectNode metadata = o.putObject("metadata");
        s.metadata().forEach(metadata::put);
        ArrayNode ignored = o.putArray("ignored_tensors");
        s.ignored().forEach(ignored::add);
        ObjectNode e = o.putObject("engine");
        e.put("backend", engine.backend()).put("blas", engine.blas()).put("threads", engine.threads());
        if (tensors) {
            ArrayNode list = o.putArray("tensors");
            for (TensorInfo t : s.tensors()) {
                ObjectNode n = list.addObject().put("name", t.name()).put("dtype", t.dtype().name());
                ArrayNode shape = n.putArray("shape");
                for (long d : t.shape()) {
                    shape.add(d);
                }
            }
        }
        return o;
    }

    private String text(HfCheckpoint.Summary s, Engine.Info engine) throws IOException {
        GptConfig c = s.config();
        StringBuilder b = new StringBuilder();
        row(b, "model", s.directory().toString());
        row(b, "config", String.format(Locale.ROOT, "GPT-2, %d layers, %d heads, n_embd %d, n_inner %d, vocab %d, "
                + "context %d", c.layers(), c.heads(), c.embeddingSize(), c.innerSize(), c.vocabSize(),
                c.contextLength()));
        row(b, "", String.format(Locale.ROOT, "layer_norm_epsilon %s, dropout embd %s attn %s resid %s, bos %d, "
                + "eos %d", c.layerNormEpsilon(), c.embeddingDropout(), c.attentionDropout(), c.residualDropout(),
                c.bosTokenId(), c.eosTokenId()));
        row(b, "parameters", String.format(Locale.ROOT, "%,d", s.parameterCount()));
        StringBuilder types = new StringBuilder();
        for (Map.Entry<DType, Integer> e : s.dtypes().entrySet()) {
            types.append(types.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue());
        }
        row(b, "tensors", s.tensors().size() + " stored (" + types + ")"
                + (s.ignored().isEmpty() ? "" : ", not loaded: " + String.join(", ", s.ignored())));
        for (Path f : s.weightFiles()) {
            row(b, "file", f.getFileName() + String.format(Locale.ROOT, ", %.1f MB", Files.size(f) / 1e6));
        }
        if (s.weightFiles().size() > 1) {
            row(b, "total", String.format(Locale.ROOT, "%.1f MB", s.weightBytes() / 1e6));
        }
        row(b, "metadata", s.metadata().isEmpty() ? "(none)" : s.metadata().toString());
        row(b, "engine", engine.backend() + ", BLAS " + engine.blas() + ", " + engine.threads() + " thread"
                + (engine.threads() == 1 ? "" : "s"));
        if (tensors) {
            for (TensorInfo t : s.tensors()) {
                b.append(String.format(Locale.ROOT, "  %-40s %-5s %s%n", t.name(), t.dtype(), t.shapeString()));
            }
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String label, String value) {
        b.append(String.format(Locale.ROOT, "%-11s %s%n", label, value));
    }
}
