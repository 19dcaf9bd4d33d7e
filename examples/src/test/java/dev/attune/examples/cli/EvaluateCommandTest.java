package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import dev.attune.prompting.eval.EvalReport;
import dev.attune.prompting.eval.Evaluator;
import dev.attune.prompting.eval.TaskFiles;
import dev.attune.prompting.eval.TaskType;
import dev.attune.prompting.fewshot.FewShotSampler;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluateCommandTest {

    private static final GptConfig CONFIG = GptConfig.builder().vocabSize(50257).contextLength(64).embeddingSize(16)
            .heads(2).layers(1).build();

    @Test
    void multipleChoiceJsonHasTheContractKeysAndTheLibrarysNumbers(@TempDir Path dir) throws Exception {
        GptModel model = GptModel.create(CONFIG, 3);
        Path modelDir = dir.resolve("model");
        HfCheckpoint.save(model, modelDir);
        Path task = dir.resolve("mc.jsonl");
        Files.writeString(task, """
                {"context": "The sky is", "choices": ["green", "blue"], "gold": 1}
                {"context": "Two plus two is", "choices": ["four", "five", "six"], "gold": 0}
                {"context": "Cats say", "choices": ["woof", "meow"], "gold": 1}
                """);

        Cli result = Cli.run("evaluate", "--model", modelDir.toString(), "--task", task.toString(), "--type", "mc",
                "--shots", "1", "--seed", "5", "--output", "json", "--no-progress");

        assertThat(result.exitCode()).as(result.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(result.out());
        assertThat(json.get("items").asInt()).isEqualTo(3);
        for (String key : new String[] {"acc", "acc_stderr", "acc_norm", "acc_norm_stderr", "acc_bytes",
                "acc_bytes_stderr"}) {
            assertThat(json.has(key)).as(key).isTrue();
        }
        EvalReport expected = Evaluator.builder(model, Tokenizer.gpt2()).shots(1).sampler(FewShotSampler.random(5))
                .bootstrapSeed(5).build().evaluate(task.toString(), TaskType.MC, TaskFiles.read(task, TaskType.MC));
        assertThat(json.get("acc").asDouble()).isEqualTo(expected.metric("acc"));
        assertThat(json.get("acc_norm_stderr").asDouble()).isEqualTo(expected.stderr("acc_norm"));
        assertThat(json.get("fewshot").get("demos")).hasSize(3);

        Cli table = Cli.run("evaluate", "--model", modelDir.toString(), "--task", task.toString(), "--type", "mc",
                "--no-progress");
        assertThat(table.exitCode()).as(table.err()).isZero();
        assertThat(table.out()).contains("| acc ").contains("3 items in");
    }

    @Test
    void badTaskFileNamesFileLineAndField(@TempDir Path dir) throws Exception {
        Path modelDir = dir.resolve("model");
        HfCheckpoint.save(GptModel.create(CONFIG, 3), modelDir);
        Path task = dir.resolve("bad.jsonl");
        Files.writeString(task, "{\"prompt\": \"p\", \"answer\": \"a\"}\n{\"prompt\": \"q\"}\n");
        Cli result = Cli.run("evaluate", "--model", modelDir.toString(), "--task", task.toString(), "--type",
                "generate");
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.err()).contains("bad.jsonl:2: field \"answer\": missing").doesNotContain("\tat ");

        Cli badType = Cli.run("evaluate", "--model", modelDir.toString(), "--task", task.toString(), "--type", "qa");
        assertThat(badType.err()).contains("unknown task type \"qa\"");
    }

    @Test
    void anAdapterChangesTheMetricsAsScoringWithTheAdapterDoes(@TempDir Path dir) throws Exception {
        Path modelDir = dir.resolve("model");
        HfCheckpoint.save(GptModel.create(CONFIG, 3), modelDir);
        PeftModel peft = Peft.lora().rank(2).alpha(4).dropout(0).targets("c_attn", "mlp.c_fc").build()
                .apply(HfCheckpoint.load(modelDir), 1);
        Nd4j.getRandom().setSeed(11);
        peft.parameters().assign(Nd4j.rand(DataType.FLOAT, peft.parameters().shape()).subi(0.5).muli(2));
        Path adapter = dir.resolve("adapter");
        peft.save(adapter);
        String text = "The quick brown fox jumps over the lazy dog, and then it runs away into the forest.";
        Path task = Files.writeString(dir.resolve("lm.jsonl"),
                new ObjectMapper().writeValueAsString(java.util.Map.of("text", text)) + "\n");
        String ids = java.util.Arrays.stream(Tokenizer.gpt2().encode(text)).mapToObj(Integer::toString)
                .collect(java.util.stream.Collectors.joining(","));

        double[] perplexity = new double[2];
        double[] scoreLoss = new double[2];
        for (int withAdapter = 0; withAdapter < 2; withAdapter++) {
            java.util.List<String> evaluate = new java.util.ArrayList<>(java.util.List.of("evaluate", "--model",
                    modelDir.toString(), "--task", task.toString(), "--type", "lm", "--bootstrap", "10",
                    "--output", "json", "--no-progress"));
            java.util.List<String> score = new java.util.ArrayList<>(java.util.List.of("score", "--model",
                    modelDir.toString(), "--ids", ids, "--output", "json"));
            if (withAdapter == 1) {
                evaluate.addAll(java.util.List.of("--adapter", adapter.toString()));
                score.addAll(java.util.List.of("--adapter", adapter.toString()));
            }
            Cli e = Cli.run(evaluate.toArray(String[]::new));
            assertThat(e.exitCode()).as(e.err()).isZero();
            perplexity[withAdapter] = new ObjectMapper().readTree(e.out()).get("perplexity").asDouble();
            Cli s = Cli.run(score.toArray(String[]::new));
            assertThat(s.exitCode()).as(s.err()).isZero();
            scoreLoss[withAdapter] = new ObjectMapper().readTree(s.out()).get("loss").asDouble();
        }
        // one window covers the text: perplexity is exp of the mean next-token loss that attune score reports
        for (int i = 0; i < 2; i++) {
            assertThat(perplexity[i]).as(i == 1 ? "with the adapter" : "without")
                    .isCloseTo(Math.exp(scoreLoss[i]), org.assertj.core.data.Percentage.withPercentage(1e-3));
        }
        assertThat(Math.abs(Math.log(perplexity[1] / perplexity[0]))).as("the adapter changes the perplexity")
                .isGreaterThan(0.01);
    }
}
