package dev.attune.prompting.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.prompting.TestModels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class LoglikelihoodScorerTest {

    private static final GptModel MODEL = TestModels.model();
    private static final Tokenizer TOKENIZER = TestModels.tokenizer();

    /** Mixed context lengths, multi-token continuations, a shared context with one-token choices, a duplicate. */
    private static final List<Request> REQUESTS = List.of(
            new Request("The capital of France is", " Paris"),
            new Request("Question: what colour is the sky on a clear day?\nAnswer:", " blue, mostly"),
            new Request("A", " b c d e f"),
            new Request("Pick a letter:", " A"),
            new Request("Pick a letter:", " B"),
            new Request("Pick a letter:", " C"),
            new Request("", "Hello world"),
            new Request("Once upon a time there was a small village near the sea, and", " the people fished"),
            new Request("The capital of France is", " Paris"),
            new Request("1 2 3 4", " 5 6"),
            new Request("Answer: ", "yes"),
            new Request("x", " y"));

    /** Independent reference: log-softmax in double of the full logits of one unpadded row. */
    private static double[] reference(int[] context, int[] continuation) {
        int[] all = new int[context.length + continuation.length];
        System.arraycopy(context, 0, all, 0, context.length);
        System.arraycopy(continuation, 0, all, context.length, continuation.length);
        int t = all.length - 1;
        int[] in = Arrays.copyOf(all, t);
        INDArray logits = MODEL.logits(TokenBatch.of(new int[][] {in}, new int[][] {in})).reshape(t, -1);
        double sum = 0;
        boolean greedy = true;
        for (int i = 0; i < continuation.length; i++) {
            int pos = context.length - 1 + i;
            double[] row = logits.getRow(pos).toDoubleVector();
            double max = Arrays.stream(row).max().orElseThrow();
            double z = Arrays.stream(row).map(v -> Math.exp(v - max)).sum();
            sum += row[continuation[i]] - max - Math.log(z);
            int argmax = 0;
            for (int v = 1; v < row.length; v++) {
                if (row[v] > row[argmax]) {
                    argmax = v;
                }
            }
            greedy &= argmax == continuation[i];
        }
        return new double[] {sum, greedy ? 1 : 0};
    }

    private static LoglikelihoodScorer scorer(int batch, boolean share) {
        return LoglikelihoodScorer.builder(MODEL, TOKENIZER).batchSize(batch).shareContexts(share).build();
    }

    @Test
    void matchesLogSoftmaxOfTheFullLogits() {
        for (boolean share : new boolean[] {false, true}) {
            LoglikelihoodScorer s = scorer(4, share);
            List<Loglikelihood> got = s.loglikelihood(REQUESTS);
            for (int i = 0; i < REQUESTS.size(); i++) {
                int[][] pair = s.encodePair(REQUESTS.get(i).context(), REQUESTS.get(i).continuation());
                double[] ref = reference(pair[0], pair[1]);
                assertThat(got.get(i).logLikelihood()).as("request %d, shared %s", i, share)
                        .isCloseTo(ref[0], within(1e-4));
                assertThat(got.get(i).greedy()).isEqualTo(ref[1] == 1);
                assertThat(got.get(i).tokens()).isEqualTo(pair[1].length);
            }
        }
    }

    @Test
    void scoresDoNotDependOnTheBatchSize() {
        for (boolean share : new boolean[] {false, true}) {
            List<Loglikelihood> one = scorer(1, share).loglikelihood(REQUESTS);
            for (int batch : new int[] {3, 8, 32}) {
                List<Loglikelihood> many = scorer(batch, share).loglikelihood(REQUESTS);
                for (int i = 0; i < REQUESTS.size(); i++) {
                    assertThat(many.get(i).logLikelihood()).as("request %d, batch %d", i, batch)
                            .isCloseTo(one.get(i).logLikelihood(), within(1e-5));
                    assertThat(many.get(i).greedy()).isEqualTo(one.get(i).greedy());
                    assertThat(many.get(i).tokens()).isEqualTo(one.get(i).tokens());
                }
            }
        }
        // the one-token shared-context path and the row path agree too
        List<Loglikelihood> rows = scorer(8, false).loglikelihood(REQUESTS);
        List<Loglikelihood> shared = scorer(8, true).loglikelihood(REQUESTS);
        for (int i = 0; i < REQUESTS.size(); i++) {
            assertThat(shared.get(i).logLikelihood()).isCloseTo(rows.get(i).logLikelihood(), within(1e-5));
        }
    }

    @Test
    void encodesPairsAsLmEval() {
        LoglikelihoodScorer s = scorer(8, true);
        int[][] pair = s.encodePair("Answer: ", "Paris");
        assertThat(pair[0]).containsExactly(TOKENIZER.encode("Answer:"));
        assertThat(pair[1]).containsExactly(TOKENIZER.encode(" Paris"));
        int[][] empty = s.encodePair("", "Hello");
        assertThat(empty[0]).containsExactly(50256);
        assertThatThrownBy(() -> new Request("a", "")).hasMessageContaining("continuation must not be empty");
    }

    @Test
    void longContextsAreCutFromTheLeft() {
        LoglikelihoodScorer s = LoglikelihoodScorer.builder(MODEL, TOKENIZER).maxLength(8).build();
        int[] context = new int[20];
        for (int i = 0; i < 20; i++) {
            context[i] = 100 + i;
        }
        int[] cont = {7, 8, 9};
        Loglikelihood got = s.loglikelihoodTokens(List.of(context), List.of(cont)).get(0);
        // the row keeps the last 9 - 3 = 6 context tokens
        double[] ref = reference(Arrays.copyOfRange(context, 14, 20), cont);
        assertThat(got.logLikelihood()).isCloseTo(ref[0], within(1e-4));
        assertThatThrownBy(() -> s.loglikelihoodTokens(List.of(context), List.of(new int[9])))
                .hasMessageContaining("continuation of 9 tokens does not fit the model's context of 8");
    }

    @Test
    void windowsFollowHuggingFacesStridedLoop() {
        assertThat(LoglikelihoodScorer.windows(10, 4, 2)).containsExactly(
                new LoglikelihoodScorer.Window(0, 4, 1), new LoglikelihoodScorer.Window(2, 6, 4),
                new LoglikelihoodScorer.Window(4, 8, 6), new LoglikelihoodScorer.Window(6, 10, 8));
        assertThat(LoglikelihoodScorer.windows(5, 8, 4)).containsExactly(new LoglikelihoodScorer.Window(0, 5, 1));
        assertThatThrownBy(() -> scorer(1, false).rolling(List.of("a b c"), 8, 8))
                .hasMessageContaining("stride must be in [1, window length - 1 = 7], got 8");
        // every token after the first is a target exactly once, whatever the stride
        for (int stride = 1; stride <= 5; stride++) {
            int[] seen = new int[23];
            for (LoglikelihoodScorer.Window w : LoglikelihoodScorer.windows(23, 6, stride)) {
                for (int t = w.firstTarget(); t < w.end(); t++) {
                    seen[t]++;
                }
                assertThat(w.end() - w.begin()).isLessThanOrEqualTo(6);
            }
            assertThat(seen[0]).isZero();
            for (int t = 1; t < 23; t++) {
                assertThat(seen[t]).as("token %d, stride %d", t, stride).isEqualTo(1);
            }
        }
    }

    @Test
    void rollingWithAWideWindowIsTheWholeTextsLikelihood() {
        String text = "It was the best of times, it was the worst of times, it was the age of wisdom.";
        int[] ids = TOKENIZER.encode(text);
        LoglikelihoodScorer s = scorer(4, false);
        LoglikelihoodScorer.Rolling wide = s.rolling(List.of(text), 64, 32).get(0);
        double[] ref = reference(new int[] {ids[0]}, Arrays.copyOfRange(ids, 1, ids.length));
        assertThat(wide.logLikelihood()).isCloseTo(ref[0], within(1e-4));
        assertThat(wide.tokens()).isEqualTo(ids.length - 1);
        assertThat(wide.bytes()).isEqualTo(text.length());
        // a short window with overlap: the same tokens, each with at most 7 tokens of context
        LoglikelihoodScorer.Rolling narrow = s.rolling(List.of(text), 8, 4).get(0);
        assertThat(narrow.tokens()).isEqualTo(ids.length - 1);
        double expected = 0;
        for (LoglikelihoodScorer.Window w : LoglikelihoodScorer.windows(ids.length, 8, 4)) {
            int firstTarget = w.firstTarget();
            expected += reference(Arrays.copyOfRange(ids, w.begin(), firstTarget),
                    Arrays.copyOfRange(ids, firstTarget, w.end()))[0];
        }
        assertThat(narrow.logLikelihood()).isCloseTo(expected, within(1e-4));
        // batch-invariant as well
        List<String> texts = new ArrayList<>(List.of(text, "Short one.", text.substring(20)));
        List<LoglikelihoodScorer.Rolling> b1 = scorer(1, false).rolling(texts, 8, 4);
        List<LoglikelihoodScorer.Rolling> b8 = scorer(8, false).rolling(texts, 8, 4);
        for (int i = 0; i < texts.size(); i++) {
            assertThat(b8.get(i).logLikelihood()).isCloseTo(b1.get(i).logLikelihood(), within(1e-5));
        }
    }
}
