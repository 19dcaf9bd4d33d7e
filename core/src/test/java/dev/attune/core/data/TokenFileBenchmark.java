package dev.attune.core.data;

import dev.attune.core.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Corpus-file tokenization ({@link TokenFile#tokenize}, what {@code attune pretrain} runs) in MB/s on three kinds of
 * text of the same size: English-like paragraphs with line breaks (the peer), the same text with every line break
 * replaced by a space (one line), and one character repeated. Two sizes per kind: tokenization is linear when the
 * rate does not fall as the file grows. Not a test; run with
 * {@code java -Xmx6g -cp <test classpath> dev.attune.core.data.TokenFileBenchmark [MB...] [repeats]}.
 */
public final class TokenFileBenchmark {

    private TokenFileBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int[] sizes = {args.length > 0 ? Integer.parseInt(args[0]) : 10, args.length > 1 ? Integer.parseInt(args[1]) : 40};
        Tokenizer gpt2 = Tokenizer.gpt2();
        Path dir = Files.createTempDirectory("attune-tokenfile-bench");
        System.out.printf(Locale.ROOT, "# %s, %d processors, median of %d; load average at start %s%n",
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), repeats,
                Files.readString(Path.of("/proc/loadavg")).trim());
        System.out.println("kind\tMB\tseconds\tMB/s\ttokens");
        for (int mb : sizes) {
            String lines = paragraphs(mb * 1_000_000);
            String[] kinds = {"lines", "one-line", "one-character"};
            String[] texts = {lines, lines.replace('\n', ' '), "a".repeat(lines.length())};
            for (int k = 0; k < kinds.length; k++) {
                Path corpus = Files.writeString(dir.resolve("corpus.txt"), texts[k]);
                texts[k] = null;
                double[] seconds = new double[repeats];
                long tokens = 0;
                long bytes = Files.size(corpus);
                TokenFile.tokenize(dir.resolve("warm.bin"), gpt2, List.of(corpus)); // JIT warm-up
                for (int i = 0; i < repeats; i++) {
                    long t0 = System.nanoTime();
                    tokens = TokenFile.tokenize(dir.resolve("corpus.bin"), gpt2, List.of(corpus));
                    seconds[i] = (System.nanoTime() - t0) / 1e9;
                }
                Arrays.sort(seconds);
                double median = seconds[repeats / 2];
                System.out.printf(Locale.ROOT, "%s\t%.1f\t%.2f\t%.2f\t%d%n", kinds[k], bytes / 1e6, median,
                        bytes / 1e6 / median, tokens);
            }
        }
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    /** Seeded English-like paragraphs separated by blank lines, about {@code chars} characters. */
    static String paragraphs(int chars) {
        String[] words = ("the of and to in a is that for it as was with be by on not he i this are or his from at "
                + "which but have an they you were her she there one all we their can has would been when who will "
                + "more no if out so said what up its about into than them only new time some could these two may "
                + "first then do any like my now over such our man me even most made after also did many before "
                + "must through back years where much your way well down should because each just those people Mr. "
                + "how too little state good very make world still own see men work long get here between both life "
                + "being under never day same another know while last might us great old year off come since 1,234 "
                + "don't it's (see above) \"quoted\" -- 3.14 e-mail").split(" ");
        Random r = new Random(42);
        StringBuilder sb = new StringBuilder(chars + 100);
        while (sb.length() < chars) {
            int sentences = 2 + r.nextInt(6);
            for (int s = 0; s < sentences; s++) {
                int n = 5 + r.nextInt(20);
                for (int w = 0; w < n; w++) {
                    String word = words[r.nextInt(words.length)];
                    sb.append(w == 0 ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word);
                    sb.append(w == n - 1 ? ". " : " ");
                }
                if (r.nextInt(4) == 0) {
                    sb.append('\n'); // a line break inside a paragraph now and then
                }
            }
            sb.append("\n\n");
        }
        return sb.substring(0, chars);
    }
}
