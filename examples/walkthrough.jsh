// A tour of Attune in JShell: load the base model, generate, fine-tune a few steps, evaluate.
//   ./attune shell examples/walkthrough.jsh      (from the repository root; the tests run it too)
// Every line works at the `attune shell` prompt as well: the imports come from the shell's startup script.

var root = Files.isDirectory(Path.of("examples", "base-model")) ? Path.of(".") : Path.of("..");
var base = Pretrained.load(root.resolve("examples/base-model"));
System.out.printf("loaded: %,d parameters, vocabulary of %,d%n", base.model().parameterCount(), base.tokenizer().vocabSize());

var sampling = GenerationConfig.builder().maxNewTokens(24).doSample(true).temperature(0.8).topK(40).seed(7).build();
var sample = Generator.of(base.model(), base.tokenizer()).generate("A hacker is", sampling);
System.out.println("generated: A hacker is" + sample.text().replaceAll("\\s+", " "));

// Sentiment pairs from the shipped data: prompt "Headline: ...\nThis news is", completion " good", " normal" or " bad"
// (one token each in the base model's vocabulary, so no label is favoured for being short).
var words = Map.of("negative", " bad", "neutral", " normal", "positive", " good");
var train = ExampleFiles.readJsonl(root.resolve("examples/data/sentiment/train.jsonl"));
var test = ExampleFiles.readJsonl(root.resolve("examples/data/sentiment/test.jsonl")).subList(0, 30);
String prompt(com.fasterxml.jackson.databind.JsonNode item) { return "Headline: " + item.get("text").asText() + "\nThis news is"; }
var pairs = PromptCompletionData.of(train.stream().limit(200).map(n -> new PromptCompletionData.Example(
        base.tokenizer().encode(prompt(n)), base.tokenizer().encode(words.get(n.get("label").asText())))).toList(),
        base.tokenizer().eosId().getAsInt());

// Evaluate: accuracy (the label word with the highest log-likelihood) and the completion loss.
double accuracy(Pretrained lm, List<com.fasterxml.jackson.databind.JsonNode> items) {
    var scorer = LoglikelihoodScorer.builder(lm.model(), lm.tokenizer()).batchSize(32).build();
    var labels = List.of("negative", "neutral", "positive");
    var requests = new ArrayList<Request>();
    for (var item : items) for (var label : labels) requests.add(new Request(prompt(item), words.get(label)));
    var scores = scorer.loglikelihood(requests);
    int right = 0;
    for (int i = 0; i < items.size(); i++) {
        int best = 0;
        for (int j = 1; j < 3; j++) if (scores.get(3 * i + j).logLikelihood() > scores.get(3 * i + best).logLikelihood()) best = j;
        if (labels.get(best).equals(items.get(i).get("label").asText())) right++;
    }
    return right / (double) items.size();
}
System.out.printf("before: accuracy on 30 test headlines %.3f, completion loss %.3f%n", accuracy(base, test), LmTraining.evaluate(base.model(), pairs, 16, 4));

// Fine-tune every weight for a few steps (LoRA takes the same LmTraining once dev.attune.finetune.peft is imported).
// (JShell ends a snippet at the end of a line that completes it: chained calls stay on one line, or in parentheses.)
var trained = (LmTraining.builder().model(base.model()).data(pairs).batchSize(16)
        .schedule(LearningRateSchedule.linear(2e-3).withWarmup(3)).maxSteps(30).seed(7).progress(false).build().run());
System.out.printf("fine-tuned %d steps, last loss %.3f%n", trained.steps(), trained.lastLoss());
System.out.printf("after: accuracy on 30 test headlines %.3f, completion loss %.3f%n", accuracy(base, test), LmTraining.evaluate(base.model(), pairs, 16, 4));
System.out.println("walkthrough done");
/exit
