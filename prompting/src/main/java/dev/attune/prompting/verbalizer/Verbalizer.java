package dev.attune.prompting.verbalizer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Maps each class label to the words that express it after a prompt ({@code "positive" -> ["great", "good"]}).
 * A word may be several tokens: a label's score for one word is the summed log-likelihood of all the word's tokens
 * given the prompt, and with several words the label takes the best of them ({@link #combine(double[])}). The
 * first word of a label is its target in few-shot demonstrations.
 *
 * <p>Immutable; labels keep their insertion order, which is also the order of class indices.
 */
public final class Verbalizer {

    private final Map<String, List<String>> words;

    private Verbalizer(Map<String, List<String>> words) {
        this.words = words;
    }

    /** A verbalizer from label to words; every label needs at least one non-blank word. */
    public static Verbalizer of(Map<String, List<String>> labelWords) {
        List<String> problems = new ArrayList<>();
        Map<String, List<String>> copy = new LinkedHashMap<>();
        if (labelWords == null || labelWords.isEmpty()) {
            throw new IllegalArgumentException("verbalizer needs at least one label");
        }
        labelWords.forEach((label, ws) -> {
            if (label == null || label.isEmpty()) {
                problems.add("labels must not be null or empty");
            } else if (ws == null || ws.isEmpty()) {
                problems.add("label \"" + label + "\" has no words");
            } else {
                for (int i = 0; i < ws.size(); i++) {
                    if (ws.get(i) == null || ws.get(i).isBlank()) {
                        problems.add("label \"" + label + "\" word " + i + " is blank");
                    }
                }
                copy.put(label, List.copyOf(ws));
            }
        });
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("verbalizer: " + String.join("; ", problems));
        }
        return new Verbalizer(Collections.unmodifiableMap(copy));
    }

    /** Each label is its own word: {@code identity("positive", "negative")}. */
    public static Verbalizer identity(List<String> labels) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (String l : labels) {
            m.put(l, List.of(l));
        }
        return of(m);
    }

    /** Labels in class-index order. */
    public List<String> labels() {
        return List.copyOf(words.keySet());
    }

    public Set<String> labelSet() {
        return words.keySet();
    }

    /** The words of {@code label}. */
    public List<String> words(String label) {
        List<String> w = words.get(label);
        if (w == null) {
            throw new IllegalArgumentException("unknown label \"" + label + "\"; the verbalizer has " + labels());
        }
        return w;
    }

    /** The word used as the label's answer in demonstrations: its first word. */
    public String target(String label) {
        return words(label).get(0);
    }

    /** Index of {@code label} among {@link #labels()}, or -1. */
    public int indexOf(String label) {
        return labels().indexOf(label);
    }

    /** A label's score from its words' log-likelihoods: the best word (the maximum). */
    public static double combine(double[] wordLogLikelihoods) {
        double best = Double.NEGATIVE_INFINITY;
        for (double v : wordLogLikelihoods) {
            best = Math.max(best, v);
        }
        return best;
    }

    /** Label to words, in label order. */
    public Map<String, List<String>> asMap() {
        return words;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Verbalizer v && words.equals(v.words);
    }

    @Override
    public int hashCode() {
        return words.hashCode();
    }

    @Override
    public String toString() {
        return "Verbalizer" + words;
    }
}
