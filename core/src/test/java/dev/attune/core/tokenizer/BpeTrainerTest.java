package dev.attune.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTrainerTest {

    private static List<String> merges(BpeTokenizer t) {
        List<String> out = new ArrayList<>();
        for (int r = 0; r < t.mergeCount(); r++) {
            out.add(t.tokenString(t.model().mergeLeft(r)) + " " + t.tokenString(t.model().mergeRight(r)));
        }
        return out;
    }

    @Test
    void handWorkedCorpus() {
        // Pieces: "ab" x1, " ab" x2, " abc" x1. Pair counts: (a,b)=4, (Ġ,a)=3, (b,c)=1 -> merge "a b".
        // Then (Ġ,ab)=3, (ab,c)=1 -> merge "Ġ ab". Then only (Ġab,c)=1 is left.
        List<String> corpus = List.of("ab ab ab abc");
        BpeTokenizer t = BpeTrainer.builder().vocabSize(1000).minFrequency(2).build().train(corpus);
        assertThat(merges(t)).containsExactly("a b", "\u0120 ab");
        assertThat(t.vocabSize()).isEqualTo(256 + 2 + 1);
        assertThat(t.specialTokens()).containsEntry("<|endoftext|>", 258);
        assertThat(t.eosId()).hasValue(258);

        BpeTokenizer all = BpeTrainer.builder().vocabSize(1000).minFrequency(1).build().train(corpus);
        assertThat(merges(all)).containsExactly("a b", "\u0120 ab", "\u0120ab c");
        assertThat(all.encode("ab abc ab")).containsExactly(256, 258, 257);

        BpeTokenizer capped = BpeTrainer.builder().vocabSize(256 + 1 + 1).minFrequency(1).build().train(corpus);
        assertThat(merges(capped)).containsExactly("a b");
        assertThat(capped.vocabSize()).isEqualTo(258);
    }

    @Test
    void saysWhenTheRequestedVocabularySizeCannotBeReached() {
        java.io.PrintStream old = System.err;
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        BpeTokenizer short1;
        BpeTokenizer reached;
        try {
            System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
            short1 = BpeTrainer.builder().vocabSize(1000).minFrequency(2).build().train(List.of("ab ab ab abc"));
            reached = BpeTrainer.builder().vocabSize(258).minFrequency(1).build().train(List.of("ab ab ab abc"));
        } finally {
            System.setErr(old);
        }
        assertThat(short1.vocabSize()).isEqualTo(259);
        assertThat(reached.vocabSize()).isEqualTo(258);
        String log = err.toString(StandardCharsets.UTF_8);
        assertThat(log).contains("the requested vocabulary size 1000 cannot be reached: the texts offer only 2 merges "
                + "of pairs occurring at least 2 times, so the vocabulary has 259 ids");
        assertThat(log.lines().filter(l -> l.contains("cannot be reached")).count()).isEqualTo(1); // not when reached
    }

    @Test
    void tiesGoToTheSmallerLeftThenRightId() {
        // "xy", " zw": every pair occurs once. Byte ids follow GPT-2: x=87, y=88, z=89, w=86, Ġ=220.
        // (x,y) has the smallest left id, then (z,w); then (Ġ,zw) is the only pair left.
        BpeTokenizer t = BpeTrainer.builder().vocabSize(1000).minFrequency(1).specialTokens().build()
                .train(List.of("xy zw"));
        assertThat(merges(t)).containsExactly("x y", "z w", "\u0120 zw");
        assertThat(t.encode("xy")).containsExactly(256);
        assertThat(t.vocabSize()).isEqualTo(259);
        assertThat(t.eosId()).isEmpty();
    }

    @Test
    void matchesANaiveTrainerAndIsReproducible() {
        List<String> corpus = englishLike(new Random(1), 400);
        BpeTrainer trainer = BpeTrainer.builder().vocabSize(256 + 300 + 1).minFrequency(2).build();
        BpeTokenizer t = trainer.train(corpus);
        assertThat(merges(t)).containsExactlyElementsOf(naiveMerges(corpus, 300, 2));
        assertThat(merges(trainer.train(corpus))).isEqualTo(merges(t));
        for (String s : corpus) {
            assertThat(t.decode(t.encode(s))).isEqualTo(s);
        }
    }

    @Test
    void trainsFromFilesAndSavesHuggingFaceFiles(@TempDir Path dir) throws IOException {
        List<String> corpus = englishLike(new Random(2), 300);
        Path file = dir.resolve("corpus.txt");
        Files.writeString(file, String.join("\n", corpus) + "\n");
        BpeTokenizer fromFile = BpeTrainer.builder().vocabSize(400).build().trainFiles(List.of(file));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i++) {
            lines.add(corpus.get(i) + "\n");
        }
        BpeTokenizer fromLines = BpeTrainer.builder().vocabSize(400).build().train(lines);
        assertThat(merges(fromFile)).isEqualTo(merges(fromLines));
        assertThat(fromFile.vocabSize()).isEqualTo(400);

        Path out = dir.resolve("tok");
        fromFile.save(out);
        assertThat(Files.readAllLines(out.resolve("merges.txt"), StandardCharsets.UTF_8))
                .first().isEqualTo("#version: 0.2");
        BpeTokenizer loaded = Tokenizer.load(out);
        assertThat(merges(loaded)).isEqualTo(merges(fromFile));
        for (String s : corpus.subList(0, 50)) {
            assertThat(loaded.encode(s)).containsExactly(fromFile.encode(s));
        }
        assertThat(loaded.eosId()).isEqualTo(fromFile.eosId());
    }

    @Test
    void rejectsBadSettingsAndText(@TempDir Path dir) throws IOException {
        assertThatThrownBy(() -> BpeTrainer.builder().vocabSize(256).build()).hasMessageContaining("vocabSize");
        assertThatThrownBy(() -> BpeTrainer.builder().minFrequency(0).build()).hasMessageContaining("minFrequency");
        assertThatThrownBy(() -> BpeTrainer.builder().build().train(List.of("ok", "bad\uD800")))
                .hasMessageContaining("text 1").hasMessageContaining("lone surrogate");
        Path latin1 = dir.resolve("latin1.txt");
        Files.write(latin1, new byte[] {'o', 'k', '\n', (byte) 0xE9, '\n'});
        assertThatThrownBy(() -> BpeTrainer.builder().build().trainFiles(List.of(latin1)))
                .hasMessageContaining("latin1.txt").hasMessageContaining("UTF-8");
    }

    // ------------------------------------------------------------------------------------------ naive reference

    /** GPT-2's split pattern in java.util.regex, independent of the hand-written pre-tokenizer. */
    private static final Pattern GPT2_SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    /**
     * Textbook BPE training: recount every pair over every word before each merge, take the most frequent (ties:
     * smaller left id, then right id), merge it everywhere. Byte ids in GPT-2's order (printable bytes first).
     */
    static List<String> naiveMerges(List<String> corpus, int merges, int minFrequency) {
        String[] spell = new String[256 + merges];
        int[] byteId = new int[256];
        int next = 0;
        for (int pass = 0; pass < 2; pass++) { // printable bytes spell themselves and come first
            for (int b = 0; b < 256; b++) {
                boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
                if (printable == (pass == 0)) {
                    byteId[b] = next++;
                }
            }
        }
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
            spell[byteId[b]] = String.valueOf((char) (printable ? b : 256 + shifted++));
        }
        Map<List<Integer>, Long> words = new HashMap<>();
        for (String text : corpus) {
            Matcher m = GPT2_SPLIT.matcher(text);
            while (m.find()) {
                List<Integer> w = new ArrayList<>();
                for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) {
                    w.add(byteId[b & 0xFF]);
                }
                words.merge(w, 1L, Long::sum);
            }
        }
        List<String> out = new ArrayList<>();
        for (int r = 0; r < merges; r++) {
            Map<List<Integer>, Long> counts = new HashMap<>();
            words.forEach((w, c) -> {
                for (int k = 0; k + 1 < w.size(); k++) {
                    counts.merge(List.of(w.get(k), w.get(k + 1)), c, Long::sum);
                }
            });
            List<Integer> best = null;
            long bestCount = 0;
            for (Map.Entry<List<Integer>, Long> e : counts.entrySet()) {
                List<Integer> p = e.getKey();
                long c = e.getValue();
                if (best == null || c > bestCount || (c == bestCount && (p.get(0) < best.get(0)
                        || (p.get(0).equals(best.get(0)) && p.get(1) < best.get(1))))) {
                    best = p;
                    bestCount = c;
                }
            }
            if (best == null || bestCount < minFrequency) {
                break;
            }
            int id = 256 + r;
            spell[id] = spell[best.get(0)] + spell[best.get(1)];
            out.add(spell[best.get(0)] + " " + spell[best.get(1)]);
            Map<List<Integer>, Long> merged = new HashMap<>();
            for (Map.Entry<List<Integer>, Long> e : words.entrySet()) {
                List<Integer> w = e.getKey();
                List<Integer> nw = new ArrayList<>();
                for (int k = 0; k < w.size(); k++) {
                    if (k + 1 < w.size() && w.get(k).equals(best.get(0)) && w.get(k + 1).equals(best.get(1))) {
                        nw.add(id);
                        k++;
                    } else {
                        nw.add(w.get(k));
                    }
                }
                merged.merge(nw, e.getValue(), Long::sum);
            }
            words = merged;
        }
        return out;
    }

    /** Sentences from a small word list with capitals, punctuation, numbers, contractions and repeated letters. */
    static List<String> englishLike(Random random, int sentences) {
        String[] vocab = ("the of and to in is you that it he was for on are as with his they at be this have from "
                + "or one had by word but not what all were we when your can said there use an each which she do how "
                + "their if will up other about out many then them these so some her would make like him into time "
                + "has look two more write go see number no way could people my than first water been call who "
                + "balloon committee mississippi aaa zzz").split(" ");
        List<String> out = new ArrayList<>();
        for (int s = 0; s < sentences; s++) {
            StringBuilder sb = new StringBuilder();
            int n = 3 + random.nextInt(12);
            for (int i = 0; i < n; i++) {
                String w = vocab[(int) Math.min(vocab.length - 1, Math.abs(random.nextGaussian()) * 25)];
                if (i == 0) {
                    w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
                }
                if (random.nextInt(20) == 0) {
                    w = w + "'s";
                }
                if (random.nextInt(25) == 0) {
                    w = Integer.toString(random.nextInt(2000));
                }
                sb.append(i == 0 ? "" : random.nextInt(15) == 0 ? ", " : " ").append(w);
            }
            out.add(sb.append(random.nextInt(5) == 0 ? "?" : ".").toString());
        }
        return out;
    }

    @Test
    void naiveReferenceAgreesWithTheHandWorkedCorpus() {
        assertThat(naiveMerges(List.of("ab ab ab abc"), 10, 1))
                .containsExactly("a b", "\u0120 ab", "\u0120ab c");
        assertThat(Arrays.asList(naiveMerges(List.of("xy zw"), 10, 1).toArray()))
                .containsExactly("x y", "z w", "\u0120 zw");
    }
}
