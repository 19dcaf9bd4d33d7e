package dev.attune.prompting.metrics;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Porter's stemmer exactly as NLTK's {@code PorterStemmer()} runs it by default ({@code NLTK_EXTENSIONS} mode), the
 * stemmer Google's rouge-score (and so lm-evaluation-harness and Hugging Face {@code evaluate}) uses: Porter's 1980
 * algorithm with Martin Porter's later changes ({@code bli -> ble}, {@code logi -> log}) and NLTK's own (a table of
 * irregular forms such as {@code dying -> die}, {@code ies}/{@code ied} on four-letter words, {@code y -> i} only after
 * a consonant, {@code alli} and {@code fulli}, no stemming of words of two letters or fewer). Java's stemmers
 * (OpenNLP's, Lucene's, Snowball's {@code porter}) are the original algorithm and stem words such as
 * {@code hopefully}, {@code ties} and {@code enjoy} differently, which changes ROUGE scores.
 *
 * <p>A port of {@code nltk/stem/porter.py} (NLTK 3.10, Apache License 2.0), {@code NLTK_EXTENSIONS} only, rule for
 * rule and in the same order; checked word for word against NLTK ({@code RougeReferenceTest}). Stateless.
 */
final class NltkPorterStemmer {

    private static final Map<String, String> IRREGULAR = Map.ofEntries(Map.entry("sky", "sky"),
            Map.entry("skies", "sky"), Map.entry("dying", "die"), Map.entry("lying", "lie"), Map.entry("tying", "tie"),
            Map.entry("news", "news"), Map.entry("innings", "inning"), Map.entry("inning", "inning"),
            Map.entry("outings", "outing"), Map.entry("outing", "outing"), Map.entry("cannings", "canning"),
            Map.entry("canning", "canning"), Map.entry("howe", "howe"), Map.entry("proceed", "proceed"),
            Map.entry("exceed", "exceed"), Map.entry("succeed", "succeed"));

    /** Suffix, replacement and the condition on the stem left without the suffix (null: none). */
    private record Rule(String suffix, String replacement, Predicate<String> condition) {
    }

    private static final String DOUBLE_CONSONANT = "*d";

    /** The stem of a lower-case word. */
    String stem(String word) {
        String stem = IRREGULAR.get(word);
        if (stem != null) {
            return stem;
        }
        if (word.length() <= 2) {
            return word;
        }
        stem = step1a(word);
        stem = step1b(stem);
        stem = step1c(stem);
        stem = step2(stem);
        stem = step3(stem);
        stem = step4(stem);
        stem = step5a(stem);
        return step5b(stem);
    }

    // ------------------------------------------------------------------------------------ Porter's conditions

    private static boolean isVowel(char c) {
        return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
    }

    /** A letter other than a vowel, and other than a y after a consonant (so a y after a y after a vowel is one). */
    private static boolean isConsonant(String word, int i) {
        char c = word.charAt(i);
        if (isVowel(c)) {
            return false;
        }
        if (c == 'y') {
            boolean negate = false;
            while (i > 0 && word.charAt(i) == 'y') {
                negate = !negate;
                i--;
            }
            return !isVowel(word.charAt(i)) != negate;
        }
        return true;
    }

    private static boolean[] consonants(String word) {
        boolean[] flags = new boolean[word.length()];
        for (int i = 0; i < flags.length; i++) {
            char c = word.charAt(i);
            flags[i] = !isVowel(c) && (c != 'y' || i == 0 || !flags[i - 1]);
        }
        return flags;
    }

    /** m in [C](VC){m}[V]. */
    private static int measure(String stem) {
        boolean[] c = consonants(stem);
        int m = 0;
        for (int i = 1; i < c.length; i++) {
            m += !c[i - 1] && c[i] ? 1 : 0;
        }
        return m;
    }

    private static boolean positiveMeasure(String stem) {
        return measure(stem) > 0;
    }

    private static boolean measureAboveOne(String stem) {
        return measure(stem) > 1;
    }

    private static boolean containsVowel(String stem) {
        for (boolean c : consonants(stem)) {
            if (!c) {
                return true;
            }
        }
        return false;
    }

    /** *d: ends with a double consonant. */
    private static boolean endsDoubleConsonant(String word) {
        int n = word.length();
        return n >= 2 && word.charAt(n - 1) == word.charAt(n - 2) && isConsonant(word, n - 1);
    }

    /** *o: ends consonant-vowel-consonant, the last not w, x or y; NLTK adds two-letter vowel-consonant words. */
    private static boolean endsCvc(String word) {
        int n = word.length();
        if (n >= 3 && isConsonant(word, n - 3) && !isConsonant(word, n - 2) && isConsonant(word, n - 1)) {
            char last = word.charAt(n - 1);
            if (last != 'w' && last != 'x' && last != 'y') {
                return true;
            }
        }
        return n == 2 && !isConsonant(word, 0) && isConsonant(word, 1);
    }

    private static String withoutSuffix(String word, String suffix) {
        return word.substring(0, word.length() - suffix.length());
    }

    /** The first rule whose suffix the word ends with decides: replaced if its condition holds, else unchanged. */
    private static String applyFirst(String word, List<Rule> rules) {
        for (Rule rule : rules) {
            if (rule.suffix().equals(DOUBLE_CONSONANT) && endsDoubleConsonant(word)) {
                String stem = word.substring(0, word.length() - 2);
                return rule.condition() == null || rule.condition().test(stem) ? stem + rule.replacement() : word;
            }
            if (word.endsWith(rule.suffix())) {
                String stem = withoutSuffix(word, rule.suffix());
                return rule.condition() == null || rule.condition().test(stem) ? stem + rule.replacement() : word;
            }
        }
        return word;
    }

    // ------------------------------------------------------------------------------------------------ steps

    private static final List<Rule> STEP1A = List.of(new Rule("sses", "ss", null), new Rule("ies", "i", null),
            new Rule("ss", "ss", null), new Rule("s", "", null));

    private static String step1a(String word) {
        if (word.endsWith("ies") && word.length() == 4) {
            return withoutSuffix(word, "ies") + "ie";
        }
        return applyFirst(word, STEP1A);
    }

    private static String step1b(String word) {
        if (word.endsWith("ied")) {
            return withoutSuffix(word, "ied") + (word.length() == 4 ? "ie" : "i");
        }
        if (word.endsWith("eed")) {
            String stem = withoutSuffix(word, "eed");
            return measure(stem) > 0 ? stem + "ee" : word;
        }
        String stem = null;
        for (String suffix : new String[] {"ed", "ing"}) {
            if (word.endsWith(suffix) && containsVowel(withoutSuffix(word, suffix))) {
                stem = withoutSuffix(word, suffix);
                break;
            }
        }
        if (stem == null) {
            return word;
        }
        char last = stem.charAt(stem.length() - 1);
        return applyFirst(stem, List.of(new Rule("at", "ate", null), new Rule("bl", "ble", null),
                new Rule("iz", "ize", null),
                new Rule(DOUBLE_CONSONANT, String.valueOf(last), s -> last != 'l' && last != 's' && last != 'z'),
                new Rule("", "e", s -> measure(s) == 1 && endsCvc(s))));
    }

    private static final List<Rule> STEP1C = List.of(new Rule("y", "i",
            stem -> stem.length() > 1 && isConsonant(stem, stem.length() - 1)));

    private static String step1c(String word) {
        return applyFirst(word, STEP1C);
    }

    private static final List<Rule> STEP2 = List.of(new Rule("ational", "ate", NltkPorterStemmer::positiveMeasure),
            new Rule("tional", "tion", NltkPorterStemmer::positiveMeasure),
            new Rule("enci", "ence", NltkPorterStemmer::positiveMeasure),
            new Rule("anci", "ance", NltkPorterStemmer::positiveMeasure),
            new Rule("izer", "ize", NltkPorterStemmer::positiveMeasure),
            new Rule("bli", "ble", NltkPorterStemmer::positiveMeasure),
            new Rule("alli", "al", NltkPorterStemmer::positiveMeasure),
            new Rule("entli", "ent", NltkPorterStemmer::positiveMeasure),
            new Rule("eli", "e", NltkPorterStemmer::positiveMeasure),
            new Rule("ousli", "ous", NltkPorterStemmer::positiveMeasure),
            new Rule("ization", "ize", NltkPorterStemmer::positiveMeasure),
            new Rule("ation", "ate", NltkPorterStemmer::positiveMeasure),
            new Rule("ator", "ate", NltkPorterStemmer::positiveMeasure),
            new Rule("alism", "al", NltkPorterStemmer::positiveMeasure),
            new Rule("iveness", "ive", NltkPorterStemmer::positiveMeasure),
            new Rule("fulness", "ful", NltkPorterStemmer::positiveMeasure),
            new Rule("ousness", "ous", NltkPorterStemmer::positiveMeasure),
            new Rule("aliti", "al", NltkPorterStemmer::positiveMeasure),
            new Rule("iviti", "ive", NltkPorterStemmer::positiveMeasure),
            new Rule("biliti", "ble", NltkPorterStemmer::positiveMeasure),
            new Rule("fulli", "ful", NltkPorterStemmer::positiveMeasure),
            // NLTK tests the measure of the word less "ogi", not of the stem less "logi"
            new Rule("logi", "log", stem -> positiveMeasure(stem + "l")));

    private static String step2(String word) {
        if (word.endsWith("alli") && positiveMeasure(withoutSuffix(word, "alli"))) {
            return step2(withoutSuffix(word, "alli") + "al");
        }
        return applyFirst(word, STEP2);
    }

    private static final List<Rule> STEP3 = List.of(new Rule("icate", "ic", NltkPorterStemmer::positiveMeasure),
            new Rule("ative", "", NltkPorterStemmer::positiveMeasure),
            new Rule("alize", "al", NltkPorterStemmer::positiveMeasure),
            new Rule("iciti", "ic", NltkPorterStemmer::positiveMeasure),
            new Rule("ical", "ic", NltkPorterStemmer::positiveMeasure),
            new Rule("ful", "", NltkPorterStemmer::positiveMeasure),
            new Rule("ness", "", NltkPorterStemmer::positiveMeasure));

    private static String step3(String word) {
        return applyFirst(word, STEP3);
    }

    private static final List<Rule> STEP4 = List.of(new Rule("al", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ance", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ence", "", NltkPorterStemmer::measureAboveOne),
            new Rule("er", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ic", "", NltkPorterStemmer::measureAboveOne),
            new Rule("able", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ible", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ant", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ement", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ment", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ent", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ion", "", stem -> measureAboveOne(stem) && (stem.endsWith("s") || stem.endsWith("t"))),
            new Rule("ou", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ism", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ate", "", NltkPorterStemmer::measureAboveOne),
            new Rule("iti", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ous", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ive", "", NltkPorterStemmer::measureAboveOne),
            new Rule("ize", "", NltkPorterStemmer::measureAboveOne));

    private static String step4(String word) {
        return applyFirst(word, STEP4);
    }

    private static String step5a(String word) {
        if (word.endsWith("e")) {
            String stem = withoutSuffix(word, "e");
            int m = measure(stem);
            if (m > 1 || m == 1 && !endsCvc(stem)) {
                return stem;
            }
        }
        return word;
    }

    private static String step5b(String word) {
        if (word.endsWith("ll") && measure(withoutSuffix(word, "l")) > 1) {
            return withoutSuffix(word, "l");
        }
        return word;
    }
}
