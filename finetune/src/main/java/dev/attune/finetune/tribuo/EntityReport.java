package dev.attune.finetune.tribuo;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.tribuo.Example;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.sequence.SequenceExample;

/**
 * Entity-level precision, recall and F1 of tag sequences, as Python's {@code seqeval} computes them: an entity is a
 * (sentence, type, first word, last word) span, and it counts as found only when the prediction has exactly that
 * span with that type. Precision is found / predicted entities, recall found / true entities, F1 their harmonic
 * mean, all micro-averaged over entity types (seqeval's {@code f1_score} default); each type gets its own row (as in
 * {@code classification_report}). A ratio with nothing to divide by is 0, as seqeval reports it.
 *
 * <p>Two ways of reading spans off tags ({@link Scheme}):
 * <ul>
 * <li>{@link Scheme#CONLL} (the default, and seqeval's default, {@code mode=None}): conlleval's lenient reading, in
 *     which an {@code I-X} that follows {@code O} or another type starts an entity of type {@code X}, and an entity
 *     ends where the type changes, at {@code O}, or at a {@code B-}. IOBES tags ({@code E-}, {@code S-}) are read as
 *     conlleval reads them.</li>
 * <li>{@link Scheme#STRICT_IOB2} (seqeval's {@code mode="strict", scheme=IOB2}): an entity is a {@code B-X} followed
 *     by any {@code I-X}; an {@code I-X} that does not continue a {@code B-X}/{@code I-X} of its type belongs to no
 *     entity, so a prediction that gets the words right but starts with {@code I-} counts as a miss.</li>
 * </ul>
 *
 * @param precision found / predicted entities, all types together
 * @param recall    found / true entities
 * @param f1        harmonic mean of precision and recall
 * @param predicted entities predicted
 * @param actual    true entities (seqeval's "support")
 * @param perType   the same per entity type, in the types' alphabetical order
 */
public record EntityReport(Scheme scheme, double precision, double recall, double f1, int predicted, int actual,
        int correct, Map<String, Scores> perType) {

    /** How spans are read off tags. */
    public enum Scheme {
        /** conlleval's (and seqeval's default) lenient reading. */
        CONLL,
        /** seqeval's strict IOB2 reading. */
        STRICT_IOB2
    }

    /** One entity type's numbers. */
    public record Scores(double precision, double recall, double f1, int predicted, int actual, int correct) {
        static Scores of(int predicted, int actual, int correct) {
            double p = predicted == 0 ? 0 : correct / (double) predicted;
            double r = actual == 0 ? 0 : correct / (double) actual;
            return new Scores(p, r, p + r == 0 ? 0 : 2 * p * r / (p + r), predicted, actual, correct);
        }
    }

    /** A span of words {@code [start, end]} (inclusive) of one type in one sentence. */
    public record Entity(int sentence, String type, int start, int end) {
    }

    public EntityReport {
        perType = Map.copyOf(perType);
    }

    /** The per-type rows in alphabetical order of type. */
    @Override
    public Map<String, Scores> perType() {
        return new TreeMap<>(perType);
    }

    /** The report with seqeval's default (conlleval) reading. */
    public static EntityReport of(List<List<String>> truth, List<List<String>> predicted) {
        return of(truth, predicted, Scheme.CONLL);
    }

    /** The report of {@code predicted} tags against {@code truth}, sentence by sentence, word by word. */
    public static EntityReport of(List<List<String>> truth, List<List<String>> predicted, Scheme scheme) {
        if (truth.size() != predicted.size()) {
            throw new IllegalArgumentException(truth.size() + " true tag sequences but " + predicted.size()
                    + " predicted");
        }
        Set<Entity> trueEntities = new HashSet<>();
        Set<Entity> predictedEntities = new HashSet<>();
        for (int s = 0; s < truth.size(); s++) {
            if (truth.get(s).size() != predicted.get(s).size()) {
                throw new IllegalArgumentException("sentence " + (s + 1) + ": " + truth.get(s).size()
                        + " true tags but " + predicted.get(s).size() + " predicted");
            }
            trueEntities.addAll(entities(s, truth.get(s), scheme));
            predictedEntities.addAll(entities(s, predicted.get(s), scheme));
        }
        Set<String> types = new TreeSet<>();
        trueEntities.forEach(e -> types.add(e.type()));
        predictedEntities.forEach(e -> types.add(e.type()));
        Map<String, Scores> perType = new TreeMap<>();
        for (String type : types) {
            int p = (int) predictedEntities.stream().filter(e -> e.type().equals(type)).count();
            int a = (int) trueEntities.stream().filter(e -> e.type().equals(type)).count();
            int c = (int) predictedEntities.stream().filter(e -> e.type().equals(type) && trueEntities.contains(e))
                    .count();
            perType.put(type, Scores.of(p, a, c));
        }
        int correct = (int) predictedEntities.stream().filter(trueEntities::contains).count();
        Scores all = Scores.of(predictedEntities.size(), trueEntities.size(), correct);
        return new EntityReport(scheme, all.precision(), all.recall(), all.f1(), all.predicted(), all.actual(),
                correct, perType);
    }

    /**
     * The report of a sequence model's predictions against the examples' own labels (what
     * {@code LabelSequenceEvaluator} compares too).
     */
    public static EntityReport of(Iterable<SequenceExample<Label>> examples, List<List<Prediction<Label>>> predictions,
            Scheme scheme) {
        List<List<String>> truth = new ArrayList<>();
        for (SequenceExample<Label> s : examples) {
            List<String> tags = new ArrayList<>();
            for (Example<Label> e : s) {
                tags.add(e.getOutput().getLabel());
            }
            truth.add(tags);
        }
        List<List<String>> predicted = new ArrayList<>();
        for (List<Prediction<Label>> sentence : predictions) {
            predicted.add(sentence.stream().map(p -> p.getOutput().getLabel()).toList());
        }
        return of(truth, predicted, scheme);
    }

    /** The entities of one sentence's tags. */
    public static List<Entity> entities(int sentence, List<String> tags, Scheme scheme) {
        return scheme == Scheme.CONLL ? conll(sentence, tags) : strictIob2(sentence, tags);
    }

    // seqeval.metrics.sequence_labeling.get_entities, with its end_of_chunk / start_of_chunk rules
    private static List<Entity> conll(int sentence, List<String> tags) {
        List<Entity> out = new ArrayList<>();
        char prevTag = 'O';
        String prevType = "";
        int begin = 0;
        for (int i = 0; i <= tags.size(); i++) {
            String chunk = i < tags.size() ? tags.get(i) : "O";
            if (chunk.isEmpty()) {
                throw new IllegalArgumentException("sentence " + (sentence + 1) + ", word " + (i + 1) + ": empty tag");
            }
            char tag = chunk.charAt(0);
            String rest = chunk.substring(1);
            int dash = rest.indexOf('-');
            String type = dash < 0 ? rest : rest.substring(dash + 1);
            if (type.isEmpty()) {
                type = "_";
            }
            if (endOfChunk(prevTag, tag, prevType, type)) {
                out.add(new Entity(sentence, prevType, begin, i - 1));
            }
            if (startOfChunk(prevTag, tag, prevType, type)) {
                begin = i;
            }
            prevTag = tag;
            prevType = type;
        }
        return out;
    }

    private static boolean endOfChunk(char prevTag, char tag, String prevType, String type) {
        return prevTag == 'E' || prevTag == 'S'
                || (prevTag == 'B' || prevTag == 'I') && (tag == 'B' || tag == 'S' || tag == 'O')
                || prevTag != 'O' && prevTag != '.' && !prevType.equals(type);
    }

    private static boolean startOfChunk(char prevTag, char tag, String prevType, String type) {
        return tag == 'B' || tag == 'S'
                || (prevTag == 'E' || prevTag == 'S' || prevTag == 'O') && (tag == 'E' || tag == 'I')
                || tag != 'O' && tag != '.' && !prevType.equals(type);
    }

    private static List<Entity> strictIob2(int sentence, List<String> tags) {
        List<Entity> out = new ArrayList<>();
        String type = null; // the open entity's type
        int begin = 0;
        for (int i = 0; i <= tags.size(); i++) {
            String t = i < tags.size() ? tags.get(i) : "O";
            boolean inside = t.startsWith("I-");
            if (type != null && !(inside && t.substring(2).equals(type))) {
                out.add(new Entity(sentence, type, begin, i - 1));
                type = null;
            }
            if (t.startsWith("B-")) {
                type = t.substring(2);
                begin = i;
            } else if (!inside && !t.equals("O")) {
                throw new IllegalArgumentException("sentence " + (sentence + 1) + ", word " + (i + 1) + ": tag '" + t
                        + "' is not IOB2 (O, B-TYPE or I-TYPE)");
            }
        }
        return out;
    }

    /** A seqeval-like table: one row per type, then the micro average. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%-12s %9s %9s %9s %9s%n", "entity",
                "precision", "recall", "f1", "support"));
        perType().forEach((type, r) -> s.append(String.format(Locale.ROOT, "%-12s %9.4f %9.4f %9.4f %9d%n", type,
                r.precision(), r.recall(), r.f1(), r.actual())));
        s.append(String.format(Locale.ROOT, "%-12s %9.4f %9.4f %9.4f %9d%n", "micro avg", precision, recall, f1,
                actual));
        s.append("(entity level, ").append(scheme == Scheme.CONLL ? "seqeval's default (conlleval) reading"
                : "seqeval's strict IOB2 reading").append(")\n");
        return s.toString();
    }
}
