package dev.attune.prompting.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import opennlp.tools.sentdetect.SentenceDetectorME;
import opennlp.tools.sentdetect.SentenceModel;
import opennlp.tools.tokenize.TokenizerME;
import opennlp.tools.tokenize.TokenizerModel;

/**
 * ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum F-measures, computed as Google's {@code rouge-score} package computes
 * them, with Apache OpenNLP for the language-dependent parts:
 * <ul>
 *   <li><b>tokens</b>: OpenNLP's English tokenizer (UD EWT model from the Maven Central jar); each token is
 *       lower-cased and split at characters that are not letters or digits, which are dropped (rouge-score
 *       replaces {@code [^a-z0-9]+} by spaces; here non-ASCII letters survive);</li>
 *   <li><b>stemming</b> (optional, off by default): Porter's stemmer as NLTK runs it ({@link NltkPorterStemmer}),
 *       on tokens longer than 3 characters, as rouge-score's {@code use_stemmer};</li>
 *   <li><b>ROUGE-N</b>: clipped n-gram overlap; precision over the prediction's n-grams, recall over the
 *       reference's;</li>
 *   <li><b>ROUGE-L</b>: longest common subsequence of the two token sequences;</li>
 *   <li><b>ROUGE-Lsum</b>: summary-level LCS (Lin 2004, section 3.2) over sentences: the text is split at newlines
 *       and each line by OpenNLP's English sentence detector; for each reference sentence the union of its LCS
 *       with every prediction sentence counts, each token at most as often as it occurs on both sides.</li>
 * </ul>
 * With several references, each metric takes the reference with the best F-measure ({@code score_multi}).
 * Checked against rouge-score's algorithm to 1e-6 ({@code RougeReferenceTest}); it differs by design where OpenNLP
 * tokenizes otherwise ({@code 30pm} is two tokens), on letters outside a-z (kept here, dropped there) and in
 * ROUGE-Lsum on a line of several sentences (split here; rouge-score's default takes a line as one sentence).
 * Instances are not thread-safe (OpenNLP's tokenizer and detector keep state); the models load once per JVM.
 */
public final class Rouge {

    /** F-measures in [0, 1]. */
    public record Scores(double rouge1, double rouge2, double rougeL, double rougeLsum) {
    }

    /** Precision, recall and F-measure of one comparison. */
    public record Score(double precision, double recall, double fmeasure) {
        static final Score ZERO = new Score(0, 0, 0);

        static Score of(double hits, int predictionCount, int referenceCount) {
            double p = hits / Math.max(predictionCount, 1);
            double r = hits / Math.max(referenceCount, 1);
            return new Score(p, r, p + r > 0 ? 2 * p * r / (p + r) : 0);
        }
    }

    private static final Pattern NOT_ALPHANUMERIC = Pattern.compile("[^\\p{L}\\p{N}]+");
    private static final String SENTENCE_MODEL = "/opennlp-en-ud-ewt-sentence-1.3-2.5.4.bin";
    private static final String TOKEN_MODEL = "/opennlp-en-ud-ewt-tokens-1.3-2.5.4.bin";

    private static final class Models { // loaded on first use, once
        static final SentenceModel SENTENCES = load(SENTENCE_MODEL, SentenceModel::new);
        static final TokenizerModel TOKENS = load(TOKEN_MODEL, TokenizerModel::new);

        interface Loader<T> {
            T load(InputStream in) throws IOException;
        }

        static <T> T load(String resource, Loader<T> loader) {
            try (InputStream in = Rouge.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("OpenNLP model " + resource + " is not on the classpath (the"
                            + " opennlp-models-*-en jars)");
                }
                return loader.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read OpenNLP model " + resource, e);
            }
        }
    }

    private final boolean stemming;
    private final TokenizerME tokenizer;
    private final SentenceDetectorME sentenceDetector;
    private final NltkPorterStemmer stemmer = new NltkPorterStemmer();

    private Rouge(boolean stemming) {
        this.stemming = stemming;
        this.tokenizer = new TokenizerME(Models.TOKENS);
        this.sentenceDetector = new SentenceDetectorME(Models.SENTENCES);
    }

    /** ROUGE without stemming (rouge-score's default). */
    public static Rouge create() {
        return new Rouge(false);
    }

    /** ROUGE with or without Porter stemming. */
    public static Rouge create(boolean stemming) {
        return new Rouge(stemming);
    }

    public boolean stemming() {
        return stemming;
    }

    /** The four F-measures of a prediction against the best-matching reference for each. */
    public Scores score(String prediction, List<String> references) {
        if (references.isEmpty()) {
            throw new IllegalArgumentException("ROUGE needs at least one reference");
        }
        List<String> p = tokenize(prediction);
        List<List<String>> pSentences = sentenceTokens(prediction);
        double r1 = 0, r2 = 0, rl = 0, rlsum = 0;
        for (String ref : references) {
            List<String> r = tokenize(ref);
            r1 = Math.max(r1, rougeN(p, r, 1).fmeasure());
            r2 = Math.max(r2, rougeN(p, r, 2).fmeasure());
            rl = Math.max(rl, rougeL(p, r).fmeasure());
            rlsum = Math.max(rlsum, rougeLsum(pSentences, sentenceTokens(ref)).fmeasure());
        }
        return new Scores(r1, r2, rl, rlsum);
    }

    /** The tokens ROUGE compares: OpenNLP tokens, lower-cased, split at non-alphanumerics, optionally stemmed. */
    public List<String> tokenize(String text) {
        List<String> out = new ArrayList<>();
        for (String token : tokenizer.tokenize(text)) {
            for (String piece : NOT_ALPHANUMERIC.split(token.toLowerCase(Locale.ROOT))) {
                if (!piece.isEmpty()) {
                    out.add(stemming && piece.length() > 3 ? stemmer.stem(piece) : piece);
                }
            }
        }
        return out;
    }

    /** Sentences: lines, each split by OpenNLP's sentence detector; blank lines dropped. */
    public List<String> sentences(String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            for (String s : sentenceDetector.sentDetect(line)) {
                if (!s.isEmpty()) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    private List<List<String>> sentenceTokens(String text) {
        List<List<String>> out = new ArrayList<>();
        for (String s : sentences(text)) {
            out.add(tokenize(s));
        }
        return out;
    }

    /** ROUGE-N of token sequences. */
    public static Score rougeN(List<String> prediction, List<String> reference, int n) {
        Map<List<String>, Integer> p = ngrams(prediction, n);
        Map<List<String>, Integer> r = ngrams(reference, n);
        int overlap = 0;
        for (Map.Entry<List<String>, Integer> e : p.entrySet()) {
            overlap += Math.min(e.getValue(), r.getOrDefault(e.getKey(), 0));
        }
        return Score.of(overlap, Math.max(0, prediction.size() - n + 1), Math.max(0, reference.size() - n + 1));
    }

    private static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int i = 0; i + n <= tokens.size(); i++) {
            counts.merge(tokens.subList(i, i + n), 1, Integer::sum);
        }
        return counts;
    }

    /** ROUGE-L of token sequences. */
    public static Score rougeL(List<String> prediction, List<String> reference) {
        if (prediction.isEmpty() || reference.isEmpty()) {
            return Score.ZERO;
        }
        int[][] t = lcsTable(reference, prediction);
        return Score.of(t[reference.size()][prediction.size()], prediction.size(), reference.size());
    }

    /** Summary-level ROUGE-L over tokenised sentences (rouge-score's {@code _summary_level_lcs}). */
    public static Score rougeLsum(List<List<String>> prediction, List<List<String>> reference) {
        int m = reference.stream().mapToInt(List::size).sum();
        int n = prediction.stream().mapToInt(List::size).sum();
        if (m == 0 || n == 0) {
            return Score.ZERO;
        }
        Map<String, Integer> refCounts = new HashMap<>();
        Map<String, Integer> predCounts = new HashMap<>();
        reference.forEach(s -> s.forEach(t -> refCounts.merge(t, 1, Integer::sum)));
        prediction.forEach(s -> s.forEach(t -> predCounts.merge(t, 1, Integer::sum)));
        int hits = 0;
        for (List<String> r : reference) {
            Set<Integer> union = new TreeSet<>();
            for (List<String> c : prediction) {
                union.addAll(lcsIndices(r, c));
            }
            for (int i : union) {
                String token = r.get(i);
                if (predCounts.getOrDefault(token, 0) > 0 && refCounts.getOrDefault(token, 0) > 0) {
                    hits++;
                    predCounts.merge(token, -1, Integer::sum);
                    refCounts.merge(token, -1, Integer::sum);
                }
            }
        }
        return Score.of(hits, n, m);
    }

    private static int[][] lcsTable(List<String> ref, List<String> can) {
        int[][] t = new int[ref.size() + 1][can.size() + 1];
        for (int i = 1; i <= ref.size(); i++) {
            for (int j = 1; j <= can.size(); j++) {
                t[i][j] = ref.get(i - 1).equals(can.get(j - 1)) ? t[i - 1][j - 1] + 1
                        : Math.max(t[i - 1][j], t[i][j - 1]);
            }
        }
        return t;
    }

    /** Indices into {@code ref} of one LCS, backtracked as rouge-score's {@code _backtrack_norec}. */
    private static Set<Integer> lcsIndices(List<String> ref, List<String> can) {
        int[][] t = lcsTable(ref, can);
        Set<Integer> out = new HashSet<>();
        int i = ref.size();
        int j = can.size();
        while (i > 0 && j > 0) {
            if (ref.get(i - 1).equals(can.get(j - 1))) {
                out.add(i - 1);
                i--;
                j--;
            } else if (t[i][j - 1] > t[i - 1][j]) {
                j--;
            } else {
                i--;
            }
        }
        return out;
    }
}
