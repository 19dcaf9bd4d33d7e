package dev.attune.examples.cli;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.examples.report.EvaluationResults;
import dev.attune.prompting.eval.EvalReport;
import dev.attune.prompting.eval.Evaluator;
import dev.attune.prompting.eval.TaskFiles;
import dev.attune.prompting.eval.TaskItem;
import dev.attune.prompting.eval.TaskType;
import dev.attune.prompting.fewshot.FewShotSampler;
import dev.attune.prompting.scoring.Progress;
import dev.attune.prompting.template.TaskPrompt;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code attune evaluate}: zero- or few-shot evaluation of a model on a JSONL task file, lm-evaluation-harness
 * style, with batch-invariant scores. JSON keys ({@code items}, {@code acc}, {@code acc_norm}, {@code acc_bytes},
 * {@code exact_match}, {@code f1}, {@code rouge1}, {@code rouge2}, {@code rougeL}, {@code rougeLsum},
 * {@code perplexity}, {@code bits_per_byte}, each with {@code _stderr}) are a stable contract.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Evaluate a model on a task file (JSON Lines), zero- or few-shot.",
                "mc: {\"context\", \"choices\": [...], \"gold\": i} -> acc, acc_norm, acc_bytes",
                "cls: {\"text\", \"label\"} with a template and verbalizer -> acc",
                "generate: {\"prompt\", \"answer\"} or {\"prompt\", \"answers\": [...]} -> exact_match, f1, rouge1,"
                        + " rouge2, rougeL, rougeLsum",
                "lm: {\"text\"} -> perplexity, bits_per_byte (strided sliding window)",
                "Every metric comes with a bootstrap standard error (NAME_stderr)."})
final class EvaluateCommand implements Callable<Integer> {

    enum SamplerChoice { random, first_n, balanced }

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Hugging Face GPT-2 directory; its tokenizer files if present, else GPT-2's tokenizer.")
    private Path model;

    @Option(names = "--adapter", paramLabel = "ADIR",
            description = "Adapter directory (adapter_config.json + adapter_model.safetensors, Attune's or PEFT's)"
                    + " to evaluate the model with.")
    private Path adapter;

    @Option(names = "--task", required = true, paramLabel = "FILE.jsonl", description = "The task file.")
    private Path task;

    @Option(names = "--type", required = true, paramLabel = "mc|cls|generate|lm",
            description = "Task type: mc, cls, generate or lm.")
    private String type;

    @Option(names = "--shots", defaultValue = "0", paramLabel = "K",
            description = "Demonstrations per item, drawn from the task's other items.")
    private int shots;

    @Option(names = "--seed", defaultValue = "1234", paramLabel = "S",
            description = "Seed of the few-shot draw and the bootstrap.")
    private long seed;

    @Option(names = "--sampler", defaultValue = "random", paramLabel = "random|first_n|balanced",
            description = "How demonstrations are chosen: ${COMPLETION-CANDIDATES}.")
    private SamplerChoice sampler;

    @Option(names = "--template", paramLabel = "FILE",
            description = "Task prompt file (JSON/YAML): template, defaults, instruction, target_delimiter,"
                    + " fewshot_delimiter, verbalizer.")
    private Path template;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "N",
            description = "Rows per forward pass; scores do not depend on it.")
    private int batch;

    @Option(names = "--max-new-tokens", defaultValue = "32", paramLabel = "N",
            description = "generate: most tokens per answer.")
    private int maxNewTokens;

    @Option(names = "--stem", description = "generate: ROUGE with Porter stemming.")
    private boolean stem;

    @Option(names = "--window", defaultValue = "0", paramLabel = "N", showDefaultValue = Visibility.NEVER,
            description = "lm: window length in tokens (default: the model's context).")
    private int window;

    @Option(names = "--stride", defaultValue = "0", paramLabel = "N", showDefaultValue = Visibility.NEVER,
            description = "lm: tokens between window starts (default: half the window).")
    private int stride;

    @Option(names = "--bootstrap", defaultValue = "1000", paramLabel = "N",
            description = "Bootstrap resamples for the standard errors.")
    private int bootstrap;

    @Option(names = "--no-progress", description = "Do not show the progress line.")
    private boolean noProgress;

    @Option(names = "--save", paramLabel = "RUN_DIR",
            description = "Also write the results to RUN_DIR/evaluations/ (a classification with its confusion"
                    + " matrix), where attune report shows them.")
    private Path save;

    @Mixin
    private OutputOption output;

    @Override
    public Integer call() throws Exception {
        TaskType taskType = TaskType.fromName(type);
        List<TaskItem> items = TaskFiles.read(task, taskType);
        TaskPrompt prompt = template == null ? null : TaskPrompt.load(template);
        Pretrained loaded = ModelDirectory.load(model);
        GptModel gpt = AdapterOptions.withAdapter(loaded.model(), adapter);
        Tokenizer tokenizer = loaded.tokenizer();
        FewShotSampler fewShot = switch (sampler) {
            case random -> FewShotSampler.random(seed);
            case first_n -> FewShotSampler.firstN();
            case balanced -> FewShotSampler.balanced(seed);
        };
        Evaluator evaluator = Evaluator.builder(gpt, tokenizer).prompt(prompt).shots(shots).sampler(fewShot)
                .batchSize(batch).maxNewTokens(maxNewTokens).rougeStemming(stem).window(window).stride(stride)
                .bootstrapIterations(bootstrap).bootstrapSeed(seed)
                .progress(noProgress ? Progress.silent() : Progress.stderr()).build();
        EvalReport report = evaluator.evaluate(task.toString(), taskType, items);

        if (save != null) {
            java.util.Map<String, String> details = new java.util.LinkedHashMap<>();
            details.put("model", model.toString());
            if (adapter != null) {
                details.put("adapter", adapter.toString());
            }
            details.put("task file", task.toString());
            details.put("seed", Long.toString(seed));
            Path file = EvaluationResults.of(report, items, details).write(save);
            spec.commandLine().getErr().println("saved the results to " + file);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            out.println(report.toJson().toString());
        } else {
            out.print(report.toTable());
            out.printf(Locale.ROOT, "%d items in %.1f s%n", report.itemCount(), report.seconds());
        }
        out.flush();
        return 0;
    }
}
