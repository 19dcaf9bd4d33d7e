package dev.attune.core.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Turns text into token ids and back.
 *
 * <p>Get GPT-2's tokenizer with {@link #gpt2()} (offline, exact: the same ids as OpenAI's encoder, Hugging Face's
 * {@code GPT2Tokenizer} and tiktoken's {@code r50k_base}), or a model directory's with {@link #load(Path)}.
 *
 * <pre>{@code
 * Tokenizer tok = Tokenizer.gpt2();
 * int[] ids = tok.encode("Hello world");          // [15496, 995]
 * String text = tok.decode(ids);                   // "Hello world"
 * }</pre>
 *
 * <p><b>Special tokens</b> such as {@code <|endoftext|>} are control ids, not text. {@link #encode(String)} never
 * produces them: a special token's spelling inside user text is encoded as ordinary characters, so text cannot
 * inject control tokens. Pass the ones you mean in {@code allowedSpecial} (tiktoken's semantics), or append their
 * ids yourself.
 *
 * <p>Offsets are Java {@code String} indices (UTF-16 code units). Implementations are immutable and thread-safe.
 */
public interface Tokenizer {

    /** GPT-2's tokenizer (50,257 ids; {@code <|endoftext|>} = 50256 is bos, eos and the default pad). Shared. */
    static BpeTokenizer gpt2() {
        return BpeTokenizer.gpt2();
    }

    /**
     * Loads the tokenizer stored in a model directory: {@code tokenizer.json} (a byte-level BPE), or
     * {@code vocab.json} + {@code merges.txt}, plus {@code special_tokens_map.json} / {@code added_tokens.json}
     * when present. This is the directory layout Hugging Face's {@code save_pretrained} writes next to
     * {@code config.json}.
     *
     * @throws IOException naming the file (and line) that is missing or malformed
     */
    static BpeTokenizer load(Path directory) throws IOException {
        return TokenizerFiles.load(directory);
    }

    /** Number of ids, i.e. one more than the largest id (the model's {@code vocab_size} must be at least this). */
    int vocabSize();

    /** Encodes ordinary text; special tokens' spellings are treated as plain characters. */
    int[] encode(String text);

    /**
     * Encodes text, recognising the special tokens named in {@code allowedSpecial} (each must be one of
     * {@link #specialTokens()}); other special tokens' spellings are encoded as plain characters.
     *
     * @throws IllegalArgumentException for a lone surrogate in {@code text} or an unknown allowed special token
     */
    int[] encode(String text, Set<String> allowedSpecial);

    /** Like {@link #encode(String, Set)}, and also returns each token's character span in {@code text}. */
    Encoding encodeWithOffsets(String text, Set<String> allowedSpecial);

    /**
     * Encodes many texts into one padded, truncated, rectangular batch with an attention mask. Runs in parallel for
     * large batches; the result does not depend on it.
     */
    default BatchEncoding encodeBatch(List<String> texts, BatchOptions options) {
        return BatchEncoding.encode(this, texts, options);
    }

    /**
     * Decodes ids to text. Byte sequences that are not valid UTF-8 (a token sequence cut inside a character)
     * become U+FFFD, as in Hugging Face and tiktoken.
     *
     * @throws IllegalArgumentException naming the first id outside the vocabulary
     */
    String decode(int[] ids);

    /** Decodes ids to text, leaving out special tokens when {@code skipSpecialTokens}. */
    String decode(int[] ids, boolean skipSpecialTokens);

    /**
     * The raw bytes of one token (a special token's are its UTF-8 spelling).
     *
     * @throws IllegalArgumentException for an id outside the vocabulary
     */
    byte[] tokenBytes(int id);

    /** A decoder for ids arriving one at a time that only ever emits whole characters. */
    default StreamingDecoder streamingDecoder() {
        return new StreamingDecoder(this);
    }

    /**
     * Where the start of a longer text can be cut so that encoding the part before the cut and then the rest gives
     * the ids of the whole text, whatever follows: the end of the last piece the pre-tokenizer has certainly
     * finished. 0 when there is no such place. Lets long texts be encoded in pieces, in time linear in their length.
     */
    default int safeSplit(CharSequence textStart) {
        return 0;
    }

    /** Special tokens (spelling to id), in id order. */
    Map<String, Integer> specialTokens();

    /** True if {@code id} is a special token. */
    boolean isSpecial(int id);

    /** Beginning-of-sequence id, if the tokenizer has one. */
    OptionalInt bosId();

    /** End-of-sequence id, if the tokenizer has one. */
    OptionalInt eosId();

    /** Padding id: the pad token if there is one, else eos (masked out anyway), else empty. */
    OptionalInt padId();
}
