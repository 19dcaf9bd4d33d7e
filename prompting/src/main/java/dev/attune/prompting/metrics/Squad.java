package dev.attune.prompting.metrics;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Exact match and token F1 as the official SQuAD v2 evaluation script computes them: both texts are normalised
 * (lower-cased; ASCII punctuation removed; the articles a, an, the removed; whitespace collapsed), F1 is over the
 * bags of normalised tokens, and with several reference answers the best score counts. An empty answer matches
 * only an empty prediction.
 */
public final class Squad {

    private static final Pattern ARTICLES = Pattern.compile("\\b(a|an|the)\\b", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern WHITESPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);
    /** Python's {@code string.punctuation}. */
    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    private Squad() {
    }

    /** SQuAD's {@code normalize_answer}. */
    public static String normalize(String text) {
        String s = text.toLowerCase(java.util.Locale.ROOT);
        StringBuilder noPunct = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (PUNCTUATION.indexOf(c) < 0) {
                noPunct.append(c);
            }
        }
        s = ARTICLES.matcher(noPunct).replaceAll(" ");
        return String.join(" ", tokens(s));
    }

    private static List<String> tokens(String s) {
        String t = s.strip();
        return t.isEmpty() ? List.of() : List.of(WHITESPACE.split(t));
    }

    /** 1 when the normalised prediction equals some normalised answer, else 0. */
    public static double exactMatch(String prediction, List<String> answers) {
        String p = normalize(prediction);
        for (String a : answers) {
            if (normalize(a).equals(p)) {
                return 1;
            }
        }
        return 0;
    }

    /** The best token F1 of the prediction against any answer. */
    public static double f1(String prediction, List<String> answers) {
        double best = 0;
        for (String a : answers) {
            best = Math.max(best, f1(prediction, a));
        }
        return best;
    }

    /** Token F1 against one answer. */
    public static double f1(String prediction, String answer) {
        List<String> p = tokens(normalize(prediction));
        List<String> g = tokens(normalize(answer));
        if (p.isEmpty() || g.isEmpty()) {
            return p.equals(g) ? 1 : 0;
        }
        Map<String, Integer> goldCounts = new HashMap<>();
        for (String t : g) {
            goldCounts.merge(t, 1, Integer::sum);
        }
        int same = 0;
        for (String t : p) {
            Integer c = goldCounts.get(t);
            if (c != null && c > 0) {
                same++;
                goldCounts.put(t, c - 1);
            }
        }
        if (same == 0) {
            return 0;
        }
        double precision = (double) same / p.size();
        double recall = (double) same / g.size();
        return 2 * precision * recall / (precision + recall);
    }
}
