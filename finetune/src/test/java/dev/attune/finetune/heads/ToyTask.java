package dev.attune.finetune.heads;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.BpeTrainer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A small labelled set made for the tests: short reviews whose label is decided by one sentiment word somewhere in
 * the text ("pos", "neg" or "neu" words), among filler words. The classes are unbalanced
 * (50% / 30% / 20%), so the majority baseline scores 0.5 and chance 1/3.
 */
public final class ToyTask {

    public static final List<String> LABELS = List.of("pos", "neg", "neu");
    private static final String[] POSITIVE = {"good", "great", "lovely", "superb"};
    private static final String[] NEGATIVE = {"bad", "awful", "boring", "poor"};
    private static final String[] NEUTRAL = {"okay", "average", "fine", "decent"};
    private static final String[] FILLER = {"the", "film", "was", "a", "movie", "plot", "and", "actors", "story",
            "really", "quite", "this", "ending"};

    public record Example(String text, String label) {
    }

    /** {@code n} examples drawn with {@code seed}. */
    public static List<Example> examples(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double u = r.nextDouble();
            String label = u < 0.5 ? "pos" : u < 0.8 ? "neg" : "neu";
            int words = 3 + r.nextInt(5);
            int at = r.nextInt(words);
            StringBuilder text = new StringBuilder();
            for (int w = 0; w < words; w++) {
                String word = w == at && label.equals("pos") ? POSITIVE[r.nextInt(POSITIVE.length)]
                        : w == at && label.equals("neg") ? NEGATIVE[r.nextInt(NEGATIVE.length)]
                        : w == at ? NEUTRAL[r.nextInt(NEUTRAL.length)]
                        : FILLER[r.nextInt(FILLER.length)];
                text.append(w == 0 ? "" : " ").append(word);
            }
            out.add(new Example(text.toString(), label));
        }
        return out;
    }

    public static BpeTokenizer tokenizer() {
        List<String> corpus = new ArrayList<>();
        examples(200, 99).forEach(e -> corpus.add(e.text()));
        corpus.add(String.join(" ", POSITIVE) + " " + String.join(" ", NEGATIVE) + " " + String.join(" ", NEUTRAL) + " " + String.join(" ", FILLER));
        return BpeTrainer.builder().vocabSize(320).minFrequency(1).specialTokens("<|endoftext|>").build().train(corpus);
    }

    public static GptModel model(BpeTokenizer tokenizer, long seed) {
        return GptModel.create(GptConfig.builder().vocabSize(tokenizer.vocabSize()).layers(2).heads(2)
                .embeddingSize(32).contextLength(32).dropout(0).build(), seed);
    }

    public static List<String> texts(List<Example> examples) {
        return examples.stream().map(Example::text).toList();
    }

    public static List<String> labels(List<Example> examples) {
        return examples.stream().map(Example::label).toList();
    }

    private ToyTask() {
    }
}
