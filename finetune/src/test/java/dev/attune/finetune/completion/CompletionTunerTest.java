package dev.attune.finetune.completion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.config.GptConfig;
import dev.attune.core.data.PromptCompletionData;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.BpeTrainer;
import dev.attune.finetune.peft.Peft;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompletionTunerTest {

    private static final List<Map<String, String>> RECORDS = List.of(
            Map.of("context", "Ada lives in Oslo and works as a baker.", "question", "Where does Ada live?",
                    "answer", "Oslo"),
            Map.of("context", "Alan lives in Lima and works as a pilot.", "question", "What does Alan work as?",
                    "answer", "pilot"),
            Map.of("context", "Grace lives in Rome and works as a nurse.", "question", "Where does Grace live?",
                    "answer", "Rome"),
            Map.of("context", "Zoe lives in Cairo and works as a judge.", "question", "What does Zoe work as?",
                    "answer", "judge"));

    @TempDir
    Path dir;

    private static Pretrained toyBase(long seed) {
        List<String> corpus = new ArrayList<>();
        for (Map<String, String> r : RECORDS) {
            corpus.add(r.get("context") + "\nQuestion: " + r.get("question") + "\nAnswer: " + r.get("answer"));
        }
        BpeTokenizer tokenizer = BpeTrainer.builder().vocabSize(330).minFrequency(1).specialTokens("<|endoftext|>")
                .build().train(corpus);
        GptModel model = GptModel.create(GptConfig.builder().vocabSize(tokenizer.vocabSize()).layers(2).heads(2)
                .embeddingSize(48).contextLength(48).dropout(0).eosTokenId(tokenizer.eosId().orElseThrow()).build(),
                seed);
        return new Pretrained(model, tokenizer);
    }

    /** The completion tokens (and EOS) of every record, in one batch, as the tuner trains on them. */
    private static TokenBatch completions(Pretrained base, CompletionTuner tuner) {
        List<PromptCompletionData.Example> examples = new ArrayList<>();
        for (Map<String, String> r : RECORDS) {
            examples.add(new PromptCompletionData.Example(base.tokenizer().encode(tuner.prompt(r)),
                    base.tokenizer().encode(" " + r.get("answer"))));
        }
        return PromptCompletionData.of(examples, base.tokenizer().eosId().orElseThrow())
                .evaluationBatches(RECORDS.size(), 48, 1).get(0);
    }

    @Test
    void fullFineTuningLowersTheCompletionLossAndAnswersWhatItLearned() throws IOException {
        Pretrained base = toyBase(3);
        CompletionTuner tuner = CompletionTuner.questionAnswering(base).learningRate(1e-2).steps(80).batchSize(4)
                .seed(2).build();
        TokenBatch batch = completions(base, tuner);
        int completionTokens = 0;
        for (Map<String, String> r : RECORDS) {
            completionTokens += base.tokenizer().encode(" " + r.get("answer")).length + 1; // and EOS
        }
        assertThat(batch.validTargets()).as("only completion tokens count").isEqualTo(completionTokens);
        double before = base.model().loss(batch) / completionTokens;

        TunedCompleter qa = tuner.train(RECORDS);
        double after = base.model().loss(batch) / completionTokens;
        assertThat(before).isGreaterThan(3.0);
        assertThat(after).as("mean loss per completion token, before %.3f", before).isLessThan(0.05);
        for (Map<String, String> r : RECORDS) {
            Map<String, String> question = Map.of("context", r.get("context"), "question", r.get("question"));
            assertThat(qa.complete(question)).isEqualTo(r.get("answer"));
        }
        assertThat(qa.completeAll(List.of(tuner.prompt(RECORDS.get(0)), tuner.prompt(RECORDS.get(3)))))
                .containsExactly("Oslo", "judge");

        Path saved = dir.resolve("qa-model");
        qa.save(saved);
        Pretrained loaded = Pretrained.load(saved);
        assertThat(loaded.model().parameters().equalsWithEps(base.model().parameters(), 0)).isTrue();
    }

    @Test
    void loraTrainsAnAdapterOnTheFrozenBase() throws IOException {
        Pretrained base = toyBase(4);
        // a fresh model's tied embeddings (N(0, 0.02)) bound every logit near 1 whatever the layers do, and they are
        // frozen here: scaled up, as a trained model's are, the adapter can move the answer's logits
        base.model().parameter("wte.weight").muli(25);
        var frozen = base.model().parameters().dup();
        CompletionTuner tuner = CompletionTuner.questionAnswering(base)
                .peft(Peft.lora().rank(8).alpha(32).dropout(0).targets("c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj").build())
                .learningRate(5e-2)
                .steps(80).batchSize(4).seed(2).build();
        TokenBatch batch = completions(base, tuner);
        double before = base.model().loss(batch) / batch.validTargets();
        TunedCompleter qa = tuner.train(RECORDS);
        double after = base.model().loss(batch) / batch.validTargets();
        assertThat(after).as("before %.3f", before).isLessThan(before / 2);
        assertThat(base.model().parameters().equalsWithEps(frozen, 0)).as("base weights unchanged").isTrue();
        qa.save(dir.resolve("adapter"));
        assertThat(dir.resolve("adapter/adapter_config.json")).exists();
    }

    @Test
    void recordsWithoutTheirFieldsAreClearErrors() throws IOException {
        Pretrained base = toyBase(5);
        CompletionTuner tuner = CompletionTuner.summarisation(base).steps(1).build();
        Path file = dir.resolve("sum.jsonl");
        Files.writeString(file, "{\"document\": \"a b c\", \"summary\": \"a\"}\n{\"document\": \"x y\"}\n");
        assertThatThrownBy(() -> tuner.train(file)).hasMessageContaining("sum.jsonl, line 2")
                .hasMessageContaining("missing field \"summary\"");
        Files.writeString(file, "{\"text\": \"a b c\", \"summary\": \"a\"}\n");
        assertThatThrownBy(() -> tuner.train(file)).hasMessageContaining("line 1")
                .hasMessageContaining("missing field \"document\"");
        assertThatThrownBy(() -> tuner.train(List.of(Map.of("document", "a b", "summary", " "))))
                .hasMessageContaining("record 1").hasMessageContaining("\"summary\" is empty");
        assertThatThrownBy(() -> CompletionTuner.builder(base, CompletionTuner.QA_PROMPT, "question").build())
                .hasMessageContaining("uses the completion field {question}");
    }
}
