package dev.attune.examples.readme.snippets;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.prompting.eval.EvalReport;
import dev.attune.prompting.eval.Evaluator;
import dev.attune.prompting.eval.TaskFiles;
import dev.attune.prompting.eval.TaskType;
import dev.attune.prompting.fewshot.FewShotSampler;
import dev.attune.prompting.scoring.Loglikelihood;
import dev.attune.prompting.scoring.LoglikelihoodScorer;
import dev.attune.prompting.template.ChatMessage;
import dev.attune.prompting.template.ChatTemplate;
import dev.attune.prompting.template.FewShotFormat;
import dev.attune.prompting.template.PromptTemplate;
import java.nio.file.Path;
import java.util.List;

public class PromptingExample {
    public static void main(String[] args) throws Exception {
        PromptTemplate t = PromptTemplate.builder("Question: {question}\nTopic: {topic}\nAnswer:")
                .defaultValue("topic", "general").build();      // {{ and }} are literal braces
        t.render("question", "Why is the sky blue?");           // a missing or unused variable is an error naming it
        List<FewShotFormat.Demo> demos = List.of(new FewShotFormat.Demo("2 + 2 =", "4"));
        String prompt = FewShotFormat.LM_EVAL.context(demos, "3 + 3 =");  // demos "input target", "\n\n", the query
        ChatTemplate chat = ChatTemplate.simple();               // "System: ...\nUser: ...\nAssistant: ", or your own
        chat.render(List.of(ChatMessage.user("Hi")), true);      // chat.stopStrings() end the assistant's turn

        Pretrained p = Pretrained.load(Path.of("runs/quickstart/model"));
        LoglikelihoodScorer scorer = LoglikelihoodScorer.builder(p.model(), p.tokenizer()).batchSize(8).build();
        Loglikelihood ll = scorer.loglikelihood("Licensed under the", " Apache");  // sum of log-probs, greedy?, tokens
        Path task = Path.of("examples/data/license-qa/mc.jsonl");
        EvalReport report = Evaluator.builder(p.model(), p.tokenizer()).shots(1).sampler(FewShotSampler.random(1234))
                .build().evaluate(task.toString(), TaskType.MC, TaskFiles.read(task, TaskType.MC));
        System.out.println(prompt + " | " + ll + " | acc " + report.metric("acc") + " +- " + report.stderr("acc"));
        System.out.print(report.toTable());
    }
}
