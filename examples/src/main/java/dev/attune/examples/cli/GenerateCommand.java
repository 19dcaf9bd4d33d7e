package dev.attune.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code attune generate}: continues a prompt with a model directory (Hugging Face {@code config.json} +
 * {@code model.safetensors}). Text output streams to the terminal as tokens are generated; {@code --output json}
 * prints one object with exactly the keys {@code ids} (generated ids only), {@code text} and {@code finish_reason}.
 */
@Command(name = "generate",
        mixinStandardHelpOptions = true,
        description = {"Generate a continuation of a prompt.",
                "Greedy by default; --temperature, --top-k or --top-p switch to sampling, --beams to beam search.",
                "The tokenizer comes from the model directory (vocab.json + merges.txt, or tokenizer.json),"
                        + " else GPT-2's."})
public final class GenerateCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory")
    private Path model;

    @Option(names = "--adapter", paramLabel = "ADIR",
            description = "adapter directory (adapter_config.json + adapter_model.safetensors, Attune's or PEFT's)")
    private Path adapter;


    @ArgGroup(exclusive = true, multiplicity = "1")
    private Input input;

    static final class Input {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "prompt text")
        String prompt;

        @Option(names = "--ids", paramLabel = "IDS", split = ",", description = "prompt token ids, e.g. 1,2,3")
        int[] ids;
    }

    @Option(names = "--max-new-tokens", required = true, paramLabel = "N", description = "most tokens to generate")
    private int maxNewTokens;

    @Option(names = "--temperature", paramLabel = "T", description = "sampling temperature (> 0)")
    private Double temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "sample from the K most likely tokens")
    private Integer topK;

    @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling: smallest set with probability P")
    private Double topP;

    @Option(names = "--seed", paramLabel = "S", description = "seed for sampling (reproducible output)")
    private Long seed;

    @Option(names = "--beams", paramLabel = "B", defaultValue = "1", description = "beam search with B beams")
    private int beams;

    @Option(names = "--stop", paramLabel = "TEXT", description = "stop before this text (repeatable)")
    private List<String> stops = List.of();

    @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "text",
            description = "text (streamed) or json")
    private Format output;

    enum Format { text, json }

    @Override
    public Integer call() throws IOException {
        GenerationConfig config = config();
        Tokenizer tokenizer = tokenizer(model);
        GptModel gpt = AdapterOptions.withAdapter(HfCheckpoint.load(model), adapter);
        Generator generator = Generator.of(gpt, tokenizer);
        int[] prompt = input.ids != null ? input.ids : tokenizer.encode(input.prompt);
        PrintWriter out = spec.commandLine().getOut();
        if (output == Format.json) {
            GenerationResult r = generator.generate(prompt, config);
            ObjectNode o = JSON.createObjectNode();
            o.putPOJO("ids", r.ids());
            o.put("text", r.text());
            o.put("finish_reason", r.finishReason().label());
            out.println(JSON.writeValueAsString(o));
        } else {
            generator.generate(prompt, config, piece -> {
                out.print(piece);
                out.flush();
            });
            out.println();
        }
        out.flush();
        return 0;
    }

    private GenerationConfig config() {
        GenerationConfig.Builder b = GenerationConfig.builder().maxNewTokens(maxNewTokens).numBeams(beams)
                .stopStrings(stops);
        boolean sample = temperature != null || topK != null || topP != null;
        if (sample && beams > 1) {
            throw new ParameterException(spec.commandLine(),
                    "--beams cannot be combined with sampling (--temperature, --top-k, --top-p)");
        }
        b.doSample(sample);
        if (temperature != null) {
            b.temperature(temperature);
        }
        if (topK != null) {
            b.topK(topK);
        }
        if (topP != null) {
            b.topP(topP);
        }
        if (seed != null) {
            b.seed(seed);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** The model directory's own tokenizer files when present, else GPT-2's. */
    static BpeTokenizer tokenizer(Path directory) throws IOException {
        boolean ownFiles = Files.isRegularFile(directory.resolve("tokenizer.json"))
                || (Files.isRegularFile(directory.resolve("vocab.json"))
                && Files.isRegularFile(directory.resolve("merges.txt")));
        return ownFiles ? Tokenizer.load(directory) : Tokenizer.gpt2();
    }
}
