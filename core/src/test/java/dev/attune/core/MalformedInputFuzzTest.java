package dev.attune.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.config.GptConfig;
import dev.attune.core.data.PromptCompletionData;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.BpeTrainer;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of the inputs users hand Attune: checkpoint directories, tokenizer files and prompt/completion
 * JSON Lines. Every case must end in a correct result or a clean error (an {@code IOException} or
 * {@code IllegalArgumentException} whose message names the file): no other exception, no error, no hang, and
 * nothing dropped without a word. Failing cases are listed with their seed and mutation, so they can be replayed.
 */
class MalformedInputFuzzTest {

    private static final long SEED = 20_261_202L;
    private static final Duration CASE_LIMIT = Duration.ofSeconds(30);
    private static ExecutorService runner;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        runner = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-case");
            t.setDaemon(true); // a hung case must not keep the JVM alive
            return t;
        });
    }

    @AfterAll
    static void stop() {
        runner.shutdownNow();
    }

    /** What one case did wrong, or null. */
    private static String judge(String what, Path mustName, Callable body) {
        Future<String> f = runner.submit(() -> {
            try {
                return body.run();
            } catch (IOException | IllegalArgumentException e) {
                String m = e.getMessage();
                if (m == null || m.isBlank()) {
                    return "error without a message: " + e;
                }
                if (mustName != null && !m.contains(mustName.getFileName().toString())) {
                    return "message does not name " + mustName.getFileName() + ": " + m;
                }
                return null;
            } catch (Throwable t) {
                StringWriter trace = new StringWriter();
                t.printStackTrace(new PrintWriter(trace));
                return "unclean failure: " + trace.toString().lines().limit(8).reduce((a, b) -> a + "\n  " + b)
                        .orElse("");
            }
        });
        try {
            String problem = f.get(CASE_LIMIT.toSeconds(), TimeUnit.SECONDS);
            return problem == null ? null : what + ": " + problem;
        } catch (TimeoutException e) {
            f.cancel(true);
            return what + ": no answer within " + CASE_LIMIT.toSeconds() + " s (hang)";
        } catch (Exception e) {
            return what + ": " + e;
        }
    }

    @FunctionalInterface
    interface Callable {
        /** Runs the case; returns a problem with a successful result, or null when the result is right. */
        String run() throws Exception;
    }

    private static void mustAllPass(List<String> problems, int cases) {
        assertThat(problems).as("%d of %d cases went wrong", problems.size(), cases).isEmpty();
    }

    // -------------------------------------------------------------------------------------------- checkpoints

    @Test
    void malformedCheckpoints() throws Exception {
        Path base = dir.resolve("base");
        GptConfig config = GptConfig.builder().vocabSize(64).contextLength(16).embeddingSize(16).layers(1).heads(2)
                .dropout(0).build();
        HfCheckpoint.save(GptModel.create(config, 1), base);
        byte[] configJson = Files.readAllBytes(base.resolve("config.json"));
        byte[] weights = Files.readAllBytes(base.resolve("model.safetensors"));
        int header = (int) ByteBuffer.wrap(weights, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Random r = new Random(SEED);
        List<String> problems = new ArrayList<>();
        int cases = 120;
        for (int c = 0; c < cases; c++) {
            Path d = Files.createDirectories(dir.resolve("ckpt-" + c));
            byte[] cfg = configJson.clone();
            byte[] w = weights.clone();
            int op = r.nextInt(10);
            boolean mustRefuseAsNotFinite = false;
            String what;
            switch (op) {
                case 0 -> what = "config.json flipped at " + flip(cfg, 0, cfg.length, r);
                case 1 -> {
                    int n = r.nextInt(cfg.length);
                    cfg = Arrays.copyOf(cfg, n);
                    what = "config.json cut to " + n + " bytes";
                }
                case 2 -> {
                    String[] values = {"-1", "0", "2000000000", "1e308", "\"x\"", "null", "true", "[]", "{}", "3.5"};
                    String[] keys = {"n_embd", "n_layer", "n_head", "vocab_size", "n_positions", "n_ctx",
                            "layer_norm_epsilon", "n_inner"};
                    String key = keys[r.nextInt(keys.length)];
                    String value = values[r.nextInt(values.length)];
                    String s = new String(cfg, StandardCharsets.UTF_8);
                    cfg = s.replaceFirst("\"" + key + "\":\\s*[^,}\\n]+", "\"" + key + "\": " + value)
                            .getBytes(StandardCharsets.UTF_8);
                    what = "config.json " + key + " = " + value;
                }
                case 3 -> {
                    String s = new String(cfg, StandardCharsets.UTF_8).trim();
                    cfg = (s.substring(0, s.length() - 1) + ", \"n_embd\": 32}").getBytes(StandardCharsets.UTF_8);
                    what = "config.json with n_embd twice";
                }
                case 4 -> {
                    int n = r.nextInt(w.length);
                    w = Arrays.copyOf(w, n);
                    what = "model.safetensors cut to " + n + " bytes";
                }
                case 5 -> what = "safetensors header flipped at " + flip(w, 8, 8 + header, r);
                case 6 -> {
                    long[] lengths = {0, 1, header - 1, header + 1, w.length, Long.MAX_VALUE, -1, 1L << 40};
                    long len = lengths[r.nextInt(lengths.length)];
                    ByteBuffer.wrap(w, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(len);
                    what = "safetensors header length " + len;
                }
                case 7 -> what = "tensor data flipped at " + flip(w, 8 + header, w.length, r);
                case 8 -> {
                    int at = 8 + header + 4 * r.nextInt((w.length - 8 - header) / 4);
                    float bad = r.nextBoolean() ? Float.NaN : Float.NEGATIVE_INFINITY;
                    ByteBuffer.wrap(w, at, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(bad);
                    mustRefuseAsNotFinite = true;
                    what = bad + " written at byte " + at;
                }
                default -> {
                    String s = new String(w, 8, header, StandardCharsets.UTF_8);
                    String[] from = {"F32", "[64,16]", "[16,16]", "\"data_offsets\":[0,", "[16]"};
                    String[] to = {"I64", "[64,17]", "[16,16,1]", "\"data_offsets\":[4,", "[99999999999]"};
                    int k = r.nextInt(from.length);
                    byte[] h = s.replace(from[k], to[k]).getBytes(StandardCharsets.UTF_8);
                    ByteArrayOutputStream o = new ByteArrayOutputStream();
                    o.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
                    o.writeBytes(h);
                    o.write(w, 8 + header, w.length - 8 - header);
                    w = o.toByteArray();
                    what = "safetensors header " + from[k] + " -> " + to[k];
                }
            }
            Files.write(d.resolve("config.json"), cfg);
            Files.write(d.resolve("model.safetensors"), w);
            boolean refuse = mustRefuseAsNotFinite;
            String problem = judge("checkpoint case " + c + " (" + what + ")", null, () -> {
                GptModel m = HfCheckpoint.load(d);
                if (refuse) {
                    return "loaded weights holding a non-finite value";
                }
                double sum = m.parameters().sumNumber().doubleValue();
                return Double.isFinite(sum) ? null : "loaded non-finite weights";
            });
            if (problem == null && refuse) {
                // it was refused: it must say why
                try {
                    HfCheckpoint.load(d);
                } catch (IOException e) {
                    if (!e.getMessage().contains("not finite")) {
                        problem = "checkpoint case " + c + " (" + what + "): refused for another reason: "
                                + e.getMessage();
                    }
                }
            }
            if (problem != null) {
                problems.add(problem);
            }
        }
        mustAllPass(problems, cases);
    }

    private static String flip(byte[] b, int from, int to, Random r) {
        StringBuilder where = new StringBuilder();
        int flips = 1 + r.nextInt(3);
        for (int i = 0; i < flips && to > from; i++) {
            int at = from + r.nextInt(to - from);
            b[at] = (byte) (r.nextInt(4) == 0 ? 0xFF : b[at] ^ (1 << r.nextInt(8)));
            where.append(i == 0 ? "" : ",").append(at);
        }
        return where.toString();
    }

    // ---------------------------------------------------------------------------------------------- tokenizers

    @Test
    void malformedTokenizerFiles() throws Exception {
        Path base = dir.resolve("tokenizer");
        BpeTokenizer trained = BpeTrainer.builder().vocabSize(300).build().train(List.of(
                "the cat sat on the mat, and the dog sat on the log.", "caf\u00e9 na\u00efve 123 456 <|endoftext|>"));
        trained.save(base);
        List<String> names;
        try (Stream<Path> files = Files.list(base)) {
            names = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        Random r = new Random(SEED + 1);
        List<String> problems = new ArrayList<>();
        int cases = 100;
        String sample = "Hello world, caf\u00e9 123! \u00ff\u4e2d";
        for (int c = 0; c < cases; c++) {
            Path d = Files.createDirectories(dir.resolve("tok-" + c));
            for (String n : names) {
                Files.copy(base.resolve(n), d.resolve(n));
            }
            // tokenizer.json wins when present: half the cases remove it to exercise vocab.json + merges.txt
            if (r.nextBoolean()) {
                Files.delete(d.resolve("tokenizer.json"));
            }
            List<String> present;
            try (Stream<Path> files = Files.list(d)) {
                present = files.map(p -> p.getFileName().toString()).sorted().toList();
            }
            Path target = d.resolve(present.get(r.nextInt(present.size())));
            byte[] b = Files.readAllBytes(target);
            int op = r.nextInt(6);
            String what;
            switch (op) {
                case 0 -> what = "flipped at " + flip(b, 0, b.length, r);
                case 1 -> {
                    int n = r.nextInt(Math.max(1, b.length));
                    b = Arrays.copyOf(b, n);
                    what = "cut to " + n + " bytes";
                }
                case 2 -> {
                    String s = new String(b, StandardCharsets.UTF_8);
                    s = s.replaceFirst(": ?(\\d+)", ": " + (r.nextBoolean() ? "2000000000" : "-3"));
                    b = s.getBytes(StandardCharsets.UTF_8);
                    what = "an id replaced";
                }
                case 3 -> {
                    String s = new String(b, StandardCharsets.UTF_8);
                    int line = s.indexOf('\n', s.length() / 2);
                    if (line > 0) {
                        int prev = s.lastIndexOf('\n', line - 1);
                        s = s.substring(0, line + 1) + s.substring(prev + 1, line + 1) + s.substring(line + 1);
                    }
                    b = s.getBytes(StandardCharsets.UTF_8);
                    what = "a line repeated";
                }
                case 4 -> {
                    b = Arrays.copyOf(b, b.length + 1);
                    System.arraycopy(b, 0, b, 1, b.length - 1);
                    b[0] = (byte) 0xC3; // a UTF-8 lead byte without its continuation
                    what = "invalid UTF-8 in front";
                }
                default -> {
                    b = null;
                    what = "deleted";
                }
            }
            if (b == null) {
                Files.delete(target);
            } else {
                Files.write(target, b);
            }
            String problem = judge("tokenizer case " + c + " (" + target.getFileName() + " " + what + ")", null, () -> {
                Tokenizer t = Tokenizer.load(d);
                int[] ids;
                try {
                    ids = t.encode(sample);
                } catch (IllegalArgumentException e) {
                    return e.getMessage() != null && e.getMessage().contains("has no token") ? null
                            : "encode failed unclearly: " + e.getMessage();
                }
                return t.decode(ids).equals(sample) ? null : "decode(encode(text)) differs from the text";
            });
            if (problem != null) {
                problems.add(problem);
            }
        }
        mustAllPass(problems, cases);
    }

    // --------------------------------------------------------------------------------------------- JSON Lines

    @Test
    void malformedPromptCompletionJsonl() throws Exception {
        Tokenizer gpt2 = Tokenizer.gpt2();
        Random r = new Random(SEED + 2);
        List<String> problems = new ArrayList<>();
        int cases = 100;
        String[] texts = {"Hello", " world", "", "caf\u00e9", "a \"quoted\" word", "line\nbreak", "\u4e2d\u6587", "42"};
        for (int c = 0; c < cases; c++) {
            Path file = dir.resolve("pairs-" + c + ".jsonl");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int lines = 1 + r.nextInt(8);
            int firstBad = -1;
            List<String[]> expected = new ArrayList<>();
            List<String> kinds = new ArrayList<>();
            for (int line = 1; line <= lines; line++) {
                String prompt = texts[r.nextInt(texts.length)];
                String completion = texts[r.nextInt(texts.length)];
                String good = "{\"prompt\": " + quote(prompt) + ", \"completion\": " + quote(completion) + "}";
                int kind = r.nextInt(r.nextInt(3) == 0 ? 14 : 3); // mostly good lines
                boolean valid;
                byte[] bytes;
                switch (kind) {
                    case 0, 1 -> {
                        bytes = good.getBytes(StandardCharsets.UTF_8);
                        valid = !completion.isEmpty();
                    }
                    case 2 -> {
                        bytes = (r.nextBoolean() ? "" : "  \t").getBytes(StandardCharsets.UTF_8);
                        valid = true; // blank: skipped, as documented
                    }
                    case 3 -> {
                        bytes = (good + good).getBytes(StandardCharsets.UTF_8);
                        valid = false;
                    }
                    case 4 -> {
                        bytes = (good + " trailing").getBytes(StandardCharsets.UTF_8);
                        valid = false;
                    }
                    case 5 -> {
                        bytes = good.replace("}", ", \"prompt\": \"again\"}").getBytes(StandardCharsets.UTF_8);
                        valid = false;
                    }
                    case 6 -> {
                        bytes = "{\"prompt\": \"only\"}".getBytes(StandardCharsets.UTF_8);
                        valid = false;
                    }
                    case 7 -> {
                        bytes = "{\"prompt\": 1, \"completion\": \"x\"}".getBytes(StandardCharsets.UTF_8);
                        valid = false;
                    }
                    case 8 -> {
                        byte[] g = good.getBytes(StandardCharsets.UTF_8);
                        bytes = Arrays.copyOf(g, g.length + 1);
                        bytes[g.length - 1] = (byte) 0xFF;
                        bytes[g.length] = '}';
                        valid = false;
                    }
                    case 9 -> {
                        bytes = good.substring(0, good.length() / 2).getBytes(StandardCharsets.UTF_8);
                        valid = false;
                    }
                    case 10 -> {
                        bytes = "{\"prompt\": \"\\ud800\", \"completion\": \"x\"}".getBytes(StandardCharsets.UTF_8);
                        valid = false;
                    }
                    case 11 -> {
                        bytes = "[\"prompt\", \"completion\"]".getBytes(StandardCharsets.UTF_8);
                        valid = false;
                    }
                    case 12 -> {
                        bytes = ("\uFEFF" + good).getBytes(StandardCharsets.UTF_8);
                        // a byte-order mark starting a line (a file's start, or files joined with cat) is skipped
                        valid = !completion.isEmpty();
                    }
                    default -> {
                        bytes = "{\"prompt\": {\"nested\": 1}, \"completion\": \"x\"}".getBytes(StandardCharsets.UTF_8);
                        valid = false;
                    }
                }
                out.writeBytes(bytes);
                out.write(r.nextInt(5) == 0 ? '\r' : ' ');
                out.write('\n');
                kinds.add(Integer.toString(kind));
                if (!valid && firstBad < 0) {
                    firstBad = line;
                }
                if (valid && (kind <= 1 || kind == 12)) {
                    expected.add(new String[] {prompt, completion});
                }
            }
            Files.write(file, out.toByteArray());
            int bad = firstBad;
            String what = "jsonl case " + c + " (line kinds " + kinds + ")";
            String problem;
            if (bad < 0 && expected.isEmpty()) {
                bad = 0; // no examples at all: an error naming the file
            }
            if (bad < 0) {
                problem = judge(what, file, () -> {
                    PromptCompletionData data = PromptCompletionData.readJsonl(file, gpt2);
                    if (data.size() != expected.size()) {
                        return data.size() + " examples read from " + expected.size() + " valid lines";
                    }
                    for (int i = 0; i < expected.size(); i++) {
                        if (!Arrays.equals(data.examples().get(i).prompt(), gpt2.encode(expected.get(i)[0]))
                                || !Arrays.equals(data.examples().get(i).completion(),
                                gpt2.encode(expected.get(i)[1]))) {
                            return "example " + (i + 1) + " differs from its line";
                        }
                    }
                    return null;
                });
            } else {
                int line = bad;
                problem = judge(what, file, () -> {
                    try {
                        PromptCompletionData.readJsonl(file, gpt2);
                    } catch (IOException e) {
                        return line == 0 || e.getMessage().contains(", line " + line) ? null
                                : "the error does not name line " + line + ": " + e.getMessage();
                    }
                    return "read a file whose line " + line + " is malformed";
                });
            }
            if (problem != null) {
                problems.add(problem);
            }
        }
        mustAllPass(problems, cases);
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
