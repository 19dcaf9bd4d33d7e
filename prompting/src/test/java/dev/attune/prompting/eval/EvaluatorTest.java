package dev.attune.prompting.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.prompting.TestModels;
import dev.attune.prompting.fewshot.FewShotSampler;
import dev.attune.prompting.metrics.MultipleChoice;
import dev.attune.prompting.metrics.Squad;
import dev.attune.prompting.scoring.Loglikelihood;
import dev.attune.prompting.scoring.LoglikelihoodScorer;
import dev.attune.prompting.scoring.Request;
import dev.attune.prompting.template.FewShotFormat;
import dev.attune.prompting.template.PromptTemplate;
import dev.attune.prompting.template.TaskPrompt;
import dev.attune.prompting.verbalizer.Verbalizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EvaluatorTest {

    private static final GptModel MODEL = TestModels.model();
    private static final Tokenizer TOKENIZER = TestModels.tokenizer();

    private static TaskItem mc(int line, String context, int gold, String... choices) {
        return new TaskItem(line, Map.of("context", context), List.of(choices), gold, null, List.of());
    }

    private static final List<TaskItem> MC = List.of(
            mc(1, "The sky is", 1, "green", "blue", "loud"),
            mc(2, "Two plus two is", 0, "four", "five"),
            mc(3, "Cats say", 2, "woof", "moo", "meow", "quack"),
            mc(4, "The opposite of hot is", 0, "cold", "warm"),
            mc(5, "Water freezes at zero degrees", 1, "Fahrenheit", "Celsius"));

    @Test
    void multipleChoiceMatchesScoringEachChoiceByHand() {
        EvalReport report = Evaluator.builder(MODEL, TOKENIZER).shots(1).sampler(FewShotSampler.firstN())
                .batchSize(3).build().evaluate("mc", TaskType.MC, MC);
        LoglikelihoodScorer scorer = LoglikelihoodScorer.builder(MODEL, TOKENIZER).batchSize(1)
                .shareContexts(false).build();
        double acc = 0, accNorm = 0;
        for (int i = 0; i < MC.size(); i++) {
            TaskItem item = MC.get(i);
            TaskItem demo = MC.get(i == 0 ? 1 : 0); // first-n, never the item itself
            String context = demo.fields().get("context") + " " + demo.choices().get(demo.gold()) + "\n\n"
                    + item.fields().get("context");
            double[] ll = new double[item.choices().size()];
            for (int c = 0; c < ll.length; c++) {
                ll[c] = scorer.loglikelihood(context, " " + item.choices().get(c)).logLikelihood();
            }
            MultipleChoice.Prediction p = MultipleChoice.predict(ll, item.choices());
            acc += p.acc() == item.gold() ? 1 : 0;
            accNorm += p.accNorm() == item.gold() ? 1 : 0;
            assertThat(report.items().get(i).prediction()).isEqualTo(Integer.toString(p.acc()));
            assertThat(report.items().get(i).demoLines()).containsExactly(demo.line());
        }
        assertThat(report.metric("acc")).isEqualTo(acc / MC.size());
        assertThat(report.metric("acc_norm")).isEqualTo(accNorm / MC.size());
        assertThat(report.metricNames()).containsExactly("acc", "acc_norm", "acc_bytes");
        assertThat(report.stderr("acc")).isFinite();
        assertThat(report.itemCount()).isEqualTo(5);

        JsonNode json = report.toJson();
        assertThat(json.get("items").asInt()).isEqualTo(5);
        assertThat(json.get("acc").asDouble()).isEqualTo(acc / MC.size());
        assertThat(json.has("acc_stderr")).isTrue();
        assertThat(json.get("fewshot").get("demos").get(0).get("demo_lines").get(0).asInt()).isEqualTo(2);
        assertThat(report.toTable()).contains("| acc_norm ").contains("±");
    }

    @Test
    void reportsDoNotDependOnTheBatchSize() {
        Evaluator.Builder b = Evaluator.builder(MODEL, TOKENIZER).shots(2).sampler(FewShotSampler.random(3));
        EvalReport one = b.batchSize(1).build().evaluate("mc", TaskType.MC, MC);
        EvalReport eight = b.batchSize(8).build().evaluate("mc", TaskType.MC, MC);
        for (String m : one.metricNames()) {
            assertThat(eight.metric(m)).isEqualTo(one.metric(m));
            assertThat(eight.stderr(m)).isEqualTo(one.stderr(m));
        }
        for (int i = 0; i < MC.size(); i++) {
            assertThat(eight.items().get(i).demoLines()).containsExactly(one.items().get(i).demoLines())
                    .doesNotContain(MC.get(i).line());
        }
    }

    @Test
    void classificationTakesEachLabelsBestWord() {
        List<TaskItem> items = new ArrayList<>();
        String[] texts = {"I loved it", "Terrible film", "Great acting", "Boring and slow"};
        String[] labels = {"pos", "neg", "pos", "neg"};
        for (int i = 0; i < texts.length; i++) {
            items.add(new TaskItem(i + 1, Map.of("text", texts[i]), List.of(), -1, labels[i], List.of()));
        }
        Map<String, List<String>> words = new LinkedHashMap<>();
        words.put("pos", List.of("good", "very good"));
        words.put("neg", List.of("bad"));
        TaskPrompt prompt = new TaskPrompt(PromptTemplate.of("Review: {text}\nSentiment:"), FewShotFormat.LM_EVAL,
                Verbalizer.of(words));
        EvalReport report = Evaluator.builder(MODEL, TOKENIZER).prompt(prompt).build()
                .evaluate("cls", TaskType.CLS, items);
        LoglikelihoodScorer scorer = LoglikelihoodScorer.builder(MODEL, TOKENIZER).build();
        double correct = 0;
        for (int i = 0; i < items.size(); i++) {
            String ctx = "Review: " + texts[i] + "\nSentiment:";
            double pos = Math.max(scorer.loglikelihood(ctx, " good").logLikelihood(),
                    scorer.loglikelihood(ctx, " very good").logLikelihood());
            double neg = scorer.loglikelihood(ctx, " bad").logLikelihood();
            String predicted = pos >= neg ? "pos" : "neg";
            assertThat(report.items().get(i).prediction()).isEqualTo(predicted);
            correct += predicted.equals(labels[i]) ? 1 : 0;
        }
        assertThat(report.metric("acc")).isEqualTo(correct / items.size());

        List<TaskItem> unknown = List.of(new TaskItem(9, Map.of("text", "x"), List.of(), -1, "meh", List.of()));
        assertThatThrownBy(() -> Evaluator.builder(MODEL, TOKENIZER).prompt(prompt).build()
                .evaluate("reviews.jsonl", TaskType.CLS, unknown))
                .hasMessageContaining("reviews.jsonl:9: field \"label\": \"meh\" is not a verbalizer label");
    }

    @Test
    void generationScoresTheStrippedGreedyText() {
        List<TaskItem> items = List.of(
                new TaskItem(1, Map.of("prompt", "Q: capital of France?\nA:"), List.of(), -1, null, List.of("Paris")),
                new TaskItem(2, Map.of("prompt", "Q: 2+2?\nA:"), List.of(), -1, null, List.of("4", "four")));
        EvalReport report = Evaluator.builder(MODEL, TOKENIZER).maxNewTokens(5).build()
                .evaluate("gen", TaskType.GENERATE, items);
        assertThat(report.metricNames()).containsExactly("exact_match", "f1", "rouge1", "rouge2", "rougeL",
                "rougeLsum");
        double em = 0;
        for (int i = 0; i < items.size(); i++) {
            String pred = report.items().get(i).prediction();
            assertThat(pred).isEqualTo(pred.strip());
            em += Squad.exactMatch(pred, items.get(i).answers());
        }
        assertThat(report.metric("exact_match")).isEqualTo(em / 2);
    }

    @Test
    void languageModellingIsCorpusPerplexity() {
        List<TaskItem> items = List.of(
                new TaskItem(1, Map.of("text", "The quick brown fox jumps over the lazy dog."), List.of(), -1, null,
                        List.of()),
                new TaskItem(2, Map.of("text", "A stitch in time saves nine, they say, and they are right."),
                        List.of(), -1, null, List.of()));
        EvalReport report = Evaluator.builder(MODEL, TOKENIZER).window(8).stride(4).build()
                .evaluate("lm", TaskType.LM, items);
        List<LoglikelihoodScorer.Rolling> r = LoglikelihoodScorer.builder(MODEL, TOKENIZER).build()
                .rolling(List.of(items.get(0).fields().get("text"), items.get(1).fields().get("text")), 8, 4);
        double nll = -(r.get(0).logLikelihood() + r.get(1).logLikelihood());
        int tokens = r.get(0).tokens() + r.get(1).tokens();
        int bytes = r.get(0).bytes() + r.get(1).bytes();
        assertThat(report.metric("perplexity")).isCloseTo(Math.exp(nll / tokens), within(1e-9));
        assertThat(report.metric("bits_per_byte")).isCloseTo(nll / bytes / Math.log(2), within(1e-9));
        // a random model over 50257 tokens: perplexity of the order of the vocabulary
        assertThat(report.metric("perplexity")).isBetween(5000.0, 500000.0);
    }

    @Test
    void templateFieldsMissingFromAnItemAreNamedWithTheLine() {
        TaskPrompt prompt = TaskPrompt.of(PromptTemplate.of("Q: {question}"));
        assertThatThrownBy(() -> Evaluator.builder(MODEL, TOKENIZER).prompt(prompt).build()
                .evaluate("t.jsonl", TaskType.MC, MC))
                .hasMessageContaining("t.jsonl:1: the template needs field(s) [question]");
    }
}
