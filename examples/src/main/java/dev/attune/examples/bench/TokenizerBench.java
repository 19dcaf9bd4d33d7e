package dev.attune.examples.bench;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.attune.core.tokenizer.BpeTokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * GPT-2 BPE encode throughput over about 1 MB of English-like paragraphs, encoded one paragraph at a time (the
 * way a data pipeline feeds documents). The peer is JTokkit's {@code r50k_base}, GPT-2's encoding, called directly.
 */
final class TokenizerBench {

    private TokenizerBench() {
    }

    static Measurement attune(Settings s) throws Exception {
        List<String> text = BenchText.paragraphs(s.smoke() ? 20_000 : 1_000_000, 42);
        BpeTokenizer tokenizer = BpeTokenizer.gpt2();
        long[] tokens = new long[1];
        double[] seconds = Timer.time(s.warmup(), s.iterations(), () -> {
            long n = 0;
            for (String paragraph : text) {
                n += tokenizer.encode(paragraph).length;
            }
            tokens[0] = n;
        });
        return new Measurement(seconds, tokens[0], fields(text, tokens[0]));
    }

    static Measurement jtokkit(Settings s) throws Exception {
        List<String> text = BenchText.paragraphs(s.smoke() ? 20_000 : 1_000_000, 42);
        Encoding encoding = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
        long[] tokens = new long[1];
        double[] seconds = Timer.time(s.warmup(), s.iterations(), () -> {
            long n = 0;
            for (String paragraph : text) {
                n += encoding.encodeOrdinary(paragraph).size();
            }
            tokens[0] = n;
        });
        return new Measurement(seconds, tokens[0], fields(text, tokens[0]));
    }

    private static java.util.Map<String, Object> fields(List<String> text, long tokens) {
        long bytes = text.stream().mapToLong(p -> p.getBytes(StandardCharsets.UTF_8).length).sum();
        return Measurement.fields("documents", text.size(), "bytes_per_iter", bytes, "tokens_per_iter", tokens);
    }
}
