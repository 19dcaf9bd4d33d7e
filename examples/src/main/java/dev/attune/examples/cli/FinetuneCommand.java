package dev.attune.examples.cli;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.io.AtomicFiles;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.RunDirectory;
import dev.attune.core.data.PromptCompletionData;
import dev.attune.core.train.TrainingResult;
import dev.attune.examples.report.ReportOptions;
import dev.attune.finetune.peft.PeftModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code attune finetune}: full fine-tuning of a Hugging Face GPT-2 checkpoint on prompt/completion pairs (JSON
 * Lines with the keys {@code prompt} and {@code completion}); the loss counts completion tokens only. The result
 * is a Hugging Face checkpoint in {@code OUT/model}, or with {@code --method} an adapter in {@code OUT/adapter} (PEFT's
 * files).
 */
@Command(name = "finetune",
        mixinStandardHelpOptions = true,
        description = {"Fine-tune a model on prompt/completion pairs (JSONL: prompt, completion): every weight, or",
                "an adapter (--method lora|adalora|adapter|prefix|prompt|ia3) with the base frozen.",
                "Writes OUT/metrics.jsonl, OUT/checkpoint-N/ and OUT/model/ (HF checkpoint) or OUT/adapter/ (PEFT)."})
public final class FinetuneCommand implements Callable<Integer> {

    static final TrainingOptions.Defaults DEFAULTS = new TrainingOptions.Defaults(5e-5, "linear", 0.0);

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory (HF checkpoint)")
    private Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "training pairs, JSONL")
    private Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    private Path out;

    @Option(names = "--validation", paramLabel = "FILE", description = "validation pairs, JSONL")
    private Path validation;

    @Option(names = "--validation-fraction", paramLabel = "F",
            description = "hold out this share of --data for validation instead")
    private Double validationFraction;

    @Option(names = "--steps", paramLabel = "N", description = "optimizer steps (default: --epochs over the data)")
    private Long steps;

    @Option(names = "--epochs", paramLabel = "E", defaultValue = "1", description = "passes over the data (default 1)")
    private double epochs;

    @Mixin
    private TrainingOptions options;

    @Mixin
    private AdapterOptions.MethodOptions method;

    @Mixin
    private ReportOptions report;

    /** Where a parameter-efficient run writes its adapter. */
    static final String ADAPTER_DIRECTORY = "adapter";

    @Override
    public Integer call() throws IOException {
        if (validation != null && validationFraction != null) {
            throw new IllegalArgumentException("give --validation or --validation-fraction, not both");
        }
        RunDirectory.Mode mode = options.runMode();
        options.builder(DEFAULTS, steps != null ? steps : 1).outputDirectory(out).validate(); // settings first, before slow work
        if (!(epochs > 0) || Double.isInfinite(epochs)) {
            throw new IllegalArgumentException("--epochs must be positive, got " + epochs);
        }
        try (RunDirectory run = RunDirectory.open(out, mode)) { // refused at once if another run holds it
            BpeTokenizer tokenizer = GenerateCommand.tokenizer(model);
            GptModel gpt = HfCheckpoint.load(model);
            PromptCompletionData train = PromptCompletionData.readJsonl(data, tokenizer);
            PromptCompletionData val = validation == null ? null
                    : PromptCompletionData.readJsonl(validation, tokenizer);
            if (validationFraction != null) {
                PromptCompletionData.Split split = train.split(validationFraction, options.seed);
                train = split.train();
                val = split.validation();
            }
            long n = steps != null ? steps : Math.max(1,
                    (long) Math.ceil(train.size() * epochs / ((double) options.batch * options.accumulation)));
            if (options.dropout != null) {
                // the loaded model keeps its weights; only the dropout setting changes
                GptModel withDropout = GptModel.zeros(gpt.config().withDropout(options.dropout));
                withDropout.parameters().assign(gpt.parameters());
                gpt = withDropout;
            }
            List<Path> files = validation == null ? List.of(data) : List.of(data, validation);
            if (method.full()) {
                TrainingResult result = report.attach(options.builder(DEFAULTS, n).runDirectory(run), spec, out,
                                "full fine-tuning", model.toString())
                        .data(train).validation(val).dataFiles(files).model(gpt).build().run();
                Path saved = out.resolve(LmTraining.MODEL_DIRECTORY);
                tokenizer.save(saved);
                options.report(spec.commandLine().getOut(), result, saved);
            } else {
                // the base stays frozen; only the adapter trains, and only the adapter is written
                PeftModel peft = method.config(n, tokenizer).apply(gpt, options.seed);
                TrainingResult result = report.attach(options.builder(DEFAULTS, n).runDirectory(run), spec, out,
                                method.method + " (" + peft.trainableParameters() + ")", model.toString())
                        .data(train).validation(val).dataFiles(files).trainable(peft).saveModel(false).build().run();
                Path saved = out.resolve(ADAPTER_DIRECTORY);
                AtomicFiles.writeDirectory(saved, peft::save);
                options.report(spec.commandLine().getOut(), result, saved);
            }
        }
        return 0;
    }
}
