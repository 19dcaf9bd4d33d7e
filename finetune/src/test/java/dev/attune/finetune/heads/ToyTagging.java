package dev.attune.finetune.heads;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.BpeTrainer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A small tagging set made for the tests: sentences of filler words with people (one or two words: B-PER I-PER)
 * and places (B-LOC) among them, in BIO tags. Most words are O (about 70%), so tagging everything O scores that
 * share of the words and an entity-level F1 of 0.
 */
public final class ToyTagging {

    public static final List<String> TAGS = List.of("O", "B-PER", "I-PER", "B-LOC");
    private static final String[] FIRST = {"Ada", "Alan", "Grace", "Linus", "Marie"};
    private static final String[] LAST = {"Lovelace", "Turing", "Hopper", "Curie"};
    private static final String[] PLACES = {"Paris", "Oslo", "Lima", "Cairo", "Rome"};
    private static final String[] FILLER = {"the", "met", "in", "went", "to", "a", "visited", "from", "today",
            "and", "saw", "with"};

    /** A sentence's words and their tags. */
    public record Sentence(List<String> words, List<String> tags) {
    }

    /** {@code n} sentences drawn with {@code seed}. */
    public static List<Sentence> sentences(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Sentence> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<String> words = new ArrayList<>();
            List<String> tags = new ArrayList<>();
            int parts = 3 + r.nextInt(4);
            for (int p = 0; p < parts; p++) {
                double u = r.nextDouble();
                if (u < 0.2) {
                    words.add(FIRST[r.nextInt(FIRST.length)]);
                    tags.add("B-PER");
                    if (r.nextBoolean()) {
                        words.add(LAST[r.nextInt(LAST.length)]);
                        tags.add("I-PER");
                    }
                } else if (u < 0.32) {
                    words.add(PLACES[r.nextInt(PLACES.length)]);
                    tags.add("B-LOC");
                } else {
                    words.add(FILLER[r.nextInt(FILLER.length)]);
                    tags.add("O");
                }
            }
            out.add(new Sentence(List.copyOf(words), List.copyOf(tags)));
        }
        return out;
    }

    public static BpeTokenizer tokenizer() {
        List<String> corpus = new ArrayList<>();
        sentences(200, 99).forEach(s -> corpus.add(String.join(" ", s.words())));
        corpus.add(String.join(" ", FIRST) + " " + String.join(" ", LAST) + " " + String.join(" ", PLACES) + " "
                + String.join(" ", FILLER));
        return BpeTrainer.builder().vocabSize(350).minFrequency(1).specialTokens("<|endoftext|>").build().train(corpus);
    }

    public static GptModel model(BpeTokenizer tokenizer, long seed) {
        return GptModel.create(GptConfig.builder().vocabSize(tokenizer.vocabSize()).layers(2).heads(2)
                .embeddingSize(32).contextLength(32).dropout(0).build(), seed);
    }

    public static List<List<String>> words(List<Sentence> sentences) {
        return sentences.stream().map(Sentence::words).toList();
    }

    public static List<List<String>> tags(List<Sentence> sentences) {
        return sentences.stream().map(Sentence::tags).toList();
    }

    private ToyTagging() {
    }
}
