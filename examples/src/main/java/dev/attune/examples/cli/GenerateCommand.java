package dev.attune.examples.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "model directory (config.json + model.safetensors, and its tokenizer files if any)")
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

    @Option(names = "--max-new-tokens", required = true, paramLabel = "N",
            description = "most tokens to generate (fewer when the model's context fills up first)")
    private Integer maxNewTokens;

    @Option(names = "--temperature", paramLabel = "T", description = "sampling temperature, > 0 (default: greedy)")
    private Double temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "sample from the K most likely tokens (default: all)")
    private Integer topK;

    @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling: smallest set with probability P (default: 1, off)")
    private Double topP;

    @Option(names = "--seed", paramLabel = "S", description = "seed for sampling, for reproducible output (default: a random seed)")
    private Long seed;

    @Option(names = "--beams", paramLabel = "B", defaultValue = "1", description = "beam search with B beams")
    private int beams;

    @Option(names = "--stop", paramLabel = "TEXT", description = "stop before this text (repeatable; default: none)")
    private List<String> stops;

    @Option(names = "--truncate", paramLabel = "SIDE", defaultValue = "none",
            description = "a prompt too long for the context: none (an error) or left (drop its oldest tokens so that"
                    + " it and --max-new-tokens fit)")
    private Truncate truncate;

    enum Truncate { none, left }

    @Mixin
    private OutputOption output;

    @Mixin
    private WeightsOption weights;

    @Override
    public Integer call() throws IOException {
        GenerationConfig config = config();
        Pretrained loaded = ModelDirectory.loadForDecoding(model, weights.resolve(model));
        Tokenizer tokenizer = loaded.tokenizer();
        GptModel gpt = AdapterOptions.withAdapter(loaded.model(), adapter);
        Generator generator = Generator.of(gpt, tokenizer);
        int[] prompt = input.ids != null ? input.ids : tokenizer.encode(input.prompt);
        warnAboutLength(prompt.length, gpt.config().contextLength());
        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            GenerationResult r = generator.generate(prompt, config);
            ObjectNode o = OutputOption.object();
            o.putPOJO("ids", r.ids());
            o.put("text", r.text());
            o.put("finish_reason", r.finishReason().label());
            OutputOption.print(out, o);
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

    /**
     * The prompt and {@code --max-new-tokens} against the model's context: an error (with the way out) when the prompt
     * leaves no room, a warning when fewer than {@code --max-new-tokens} can be generated or the prompt is cut.
     */
    private void warnAboutLength(int promptTokens, int context) {
        PrintWriter err = spec.commandLine().getErr();
        if (truncate == Truncate.left) {
            int keep = Math.max(1, context - maxNewTokens);
            if (promptTokens > keep) {
                err.printf("attune: warning: the prompt's first %d of %d tokens are dropped (--truncate left) so that"
                        + " it and --max-new-tokens %d fit the model's context of %d%n", promptTokens - keep,
                        promptTokens, maxNewTokens, context);
            }
            if (keep + maxNewTokens > context) {
                err.printf("attune: warning: --max-new-tokens %d is more than the model's context of %d allows after"
                        + " one prompt token; at most %d tokens will be generated%n", maxNewTokens, context,
                        context - 1);
            }
        } else if (promptTokens >= context) {
            throw new ParameterException(spec.commandLine(), "the prompt has " + promptTokens + " tokens but the"
                    + " model's context holds " + context + ", leaving no room to generate; shorten it or pass"
                    + " --truncate left");
        } else if (promptTokens + maxNewTokens > context) {
            err.printf("attune: warning: --max-new-tokens %d is more than the %d positions left after the prompt's %d"
                    + " tokens (context %d); at most %d tokens will be generated%n", maxNewTokens,
                    context - promptTokens, promptTokens, context, context - promptTokens);
        }
        err.flush();
    }

    private GenerationConfig config() {
        GenerationConfig.Builder b = GenerationConfig.builder().maxNewTokens(maxNewTokens).numBeams(beams)
                .stopStrings(stops == null ? List.of() : stops).contextOverflow(truncate == Truncate.left
                        ? GenerationConfig.ContextOverflow.TRUNCATE_LEFT : GenerationConfig.ContextOverflow.ERROR);
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
}
