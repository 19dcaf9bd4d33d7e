package dev.attune.finetune.completion;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.data.PromptCompletionData;
import dev.attune.core.io.StrictJson;
import dev.attune.core.train.AdamW;
import dev.attune.core.train.LearningRateSchedule;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.Trainable;
import dev.attune.core.train.TrainingResult;
import dev.attune.finetune.peft.AdapterConfig;
import dev.attune.finetune.peft.PeftModel;
import dev.attune.prompting.template.PromptTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fine-tuning for tasks whose answer is text (summarisation, question answering, any prompt -> completion), in
 * the same fluent style as the classifiers, returning a {@link TunedCompleter} that answers with text:
 *
 * <pre>{@code
 * TunedCompleter qa = CompletionTuner.questionAnswering(Pretrained.load(Path.of("gpt2")))
 *         .peft(Peft.lora().rank(8).build())                 // or full fine-tuning, the default
 *         .learningRate(1e-3).steps(300).batchSize(8).seed(1).build()
 *         .train(Path.of("qa/train.jsonl"));                  // {"context", "question", "answer"} per line
 * String answer = qa.complete(Map.of("context", "...", "question", "Where does Kaori live?"));
 * }</pre>
 *
 * Each record's fields fill the prompt template, and its answer field is the completion (after one space, as text
 * continues after {@code "Answer:"}); the loss counts the completion's tokens and the end-of-sequence token after
 * them, never the prompt's ({@link PromptCompletionData}, the same data {@code attune finetune} trains on). Training
 * runs in {@link LmTraining} (AdamW, constant learning rate after a warmup of a tenth of the steps, clipping at 1);
 * every weight trains, or with {@link Builder#peft} an adapter on the frozen base. Not thread-safe.
 */
public final class CompletionTuner {

    /** Summarisation: {@code {"document", "summary"}} records, prompted as GPT-2's paper did ({@code TL;DR:}). */
    public static final PromptTemplate SUMMARY_PROMPT = PromptTemplate.of("{document}\nTL;DR:");
    /** Question answering: {@code {"context", "question", "answer"}} records. */
    public static final PromptTemplate QA_PROMPT = PromptTemplate.of("{context}\nQuestion: {question}\nAnswer:");

    private final Builder settings;

    private CompletionTuner(Builder settings) {
        this.settings = settings;
    }

    /** A tuner for {@code base} whose records fill {@code prompt} and whose {@code completionField} is the answer. */
    public static Builder builder(Pretrained base, PromptTemplate prompt, String completionField) {
        return new Builder(base, prompt, completionField);
    }

    /** Summarisation records {@code {"document", "summary"}}. */
    public static Builder summarisation(Pretrained base) {
        return builder(base, SUMMARY_PROMPT, "summary");
    }

    /** Question-answering records {@code {"context", "question", "answer"}}. */
    public static Builder questionAnswering(Pretrained base) {
        return builder(base, QA_PROMPT, "answer");
    }

    /** Trains on records (field -> text); a record without a field the template or the answer needs is an error. */
    public TunedCompleter train(List<Map<String, String>> records) throws IOException {
        List<String> prompts = new ArrayList<>();
        List<String> completions = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            try {
                Map<String, String> r = records.get(i);
                completions.add(answer(r));
                prompts.add(prompt(r));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("record " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return trainPairs(prompts, completions, records.size() + " records");
    }

    /** Trains on the JSON Lines file's records (other keys ignored); errors name the file, line and field. */
    public TunedCompleter train(Path jsonl) throws IOException {
        if (!Files.isRegularFile(jsonl)) {
            throw new NoSuchFileException(jsonl.toString(), null, "record file not found");
        }
        List<String> prompts = new ArrayList<>();
        List<String> completions = new ArrayList<>();
        StrictJson.readLines(jsonl, true, (line, o) -> {
            String where = jsonl + ", line " + line;
            if (!o.isObject()) {
                throw new IOException(where + ": expected a JSON object");
            }
            Map<String, String> fields = new LinkedHashMap<>();
            for (String name : settings.prompt.variables()) {
                fields.put(name, text(o, name, where));
            }
            fields.put(settings.completionField, text(o, settings.completionField, where));
            try {
                completions.add(answer(fields));
                prompts.add(prompt(fields));
            } catch (IllegalArgumentException e) {
                throw new IOException(where + ": " + e.getMessage(), e);
            }
        });
        return trainPairs(prompts, completions, jsonl.getFileName().toString());
    }

    private static String text(JsonNode o, String key, String where) throws IOException {
        JsonNode n = o.get(key);
        if (n == null || !n.isTextual()) {
            throw new IOException(where + ": " + (n == null ? "missing field \"" + key + "\"" : "\"" + key
                    + "\" must be a string"));
        }
        return n.asText();
    }

    /** The prompt a record makes (what {@link TunedCompleter#complete(Map)} sends to the model). */
    public String prompt(Map<String, String> record) {
        Map<String, String> fields = new LinkedHashMap<>(record);
        fields.remove(settings.completionField);
        return settings.prompt.render(fields);
    }

    private String answer(Map<String, String> record) {
        String a = record.get(settings.completionField);
        if (a == null) {
            throw new IllegalArgumentException("missing field \"" + settings.completionField + "\"");
        }
        if (a.isBlank()) {
            throw new IllegalArgumentException("\"" + settings.completionField + "\" is empty");
        }
        return a;
    }

    /**
     * Trains on prompts and their completions as given; {@code " " + completion} is what the model learns to
     * continue each prompt with.
     */
    public TunedCompleter trainPairs(List<String> prompts, List<String> completions, String description)
            throws IOException {
        if (prompts.size() != completions.size() || prompts.isEmpty()) {
            throw new IllegalArgumentException(description + ": need the same, non-zero number of prompts and "
                    + "completions, got " + prompts.size() + " and " + completions.size());
        }
        Pretrained base = settings.base;
        int eos = base.tokenizer().eosId().orElseThrow(() -> new IllegalArgumentException(
                "the tokenizer has no end-of-sequence token to end each completion with"));
        List<PromptCompletionData.Example> examples = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            examples.add(new PromptCompletionData.Example(base.tokenizer().encode(prompts.get(i)),
                    base.tokenizer().encode(" " + completions.get(i))));
        }
        PromptCompletionData data = PromptCompletionData.of(examples, eos);
        PeftModel peft = settings.adapter == null ? null : settings.adapter.apply(base.model(), settings.seed);
        Trainable trainable = peft == null ? Trainable.of(base.model()) : peft;
        TrainingResult result = LmTraining.builder().trainable(trainable).data(data).batchSize(settings.batchSize)
                .maxSteps(settings.steps).optimizer(AdamW.builder().weightDecay(settings.weightDecay).build())
                .schedule(LearningRateSchedule.constant(settings.learningRate)
                        .withWarmup(Math.max(1, settings.steps / 10)))
                .clipGradNorm(1.0).seed(settings.seed).progress(settings.progress).saveModel(false).build().run();
        return new TunedCompleter(this, base, peft, eos, settings.maxNewTokens, result);
    }

    /** Fluent configuration; {@link #build()} validates. */
    public static final class Builder {
        private final Pretrained base;
        private final PromptTemplate prompt;
        private final String completionField;
        private AdapterConfig adapter;
        private double learningRate = 5e-5;
        private double weightDecay = 0;
        private int steps = 100;
        private int batchSize = 8;
        private int maxNewTokens = 64;
        private long seed = 1;
        private boolean progress;

        private Builder(Pretrained base, PromptTemplate prompt, String completionField) {
            this.base = base;
            this.prompt = prompt;
            this.completionField = completionField;
        }

        /** Every weight trains (the default). */
        public Builder full() { adapter = null; return this; }
        /** The adapter {@code config} describes trains; the base stays frozen. */
        public Builder peft(AdapterConfig config) { adapter = config; return this; }
        public Builder learningRate(double lr) { learningRate = lr; return this; }
        public Builder weightDecay(double wd) { weightDecay = wd; return this; }
        public Builder steps(int n) { steps = n; return this; }
        public Builder batchSize(int n) { batchSize = n; return this; }
        /** The longest answer {@link TunedCompleter#complete} generates (64 tokens by default). */
        public Builder maxNewTokens(int n) { maxNewTokens = n; return this; }
        public Builder seed(long s) { seed = s; return this; }
        public Builder progress(boolean show) { progress = show; return this; }

        public CompletionTuner build() {
            List<String> problems = new ArrayList<>();
            if (base == null || prompt == null) {
                problems.add("a base model and a prompt template are needed");
            }
            if (completionField == null || completionField.isBlank()) {
                problems.add("the completion field needs a name");
            } else if (prompt != null && prompt.variables().contains(completionField)) {
                problems.add("the prompt template uses the completion field {" + completionField + "}");
            }
            if (!(learningRate > 0) || weightDecay < 0 || steps <= 0 || batchSize <= 0 || maxNewTokens <= 0) {
                problems.add("learning rate, steps, batch size and max new tokens must be positive and weight decay"
                        + " non-negative, got " + learningRate + ", " + steps + ", " + batchSize + ", "
                        + maxNewTokens + ", " + weightDecay);
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(String.join("; ", problems));
            }
            return new CompletionTuner(this);
        }
    }
}
