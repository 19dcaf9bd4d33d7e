package dev.attune.core.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A byte-level BPE tokenizer in the GPT-2 family: GPT-2's pre-tokenization, a {@code vocab.json} and a ranked
 * {@code merges.txt}, and added special tokens.
 *
 * <p>Pre-tokenization follows the original GPT-2 pattern with Python {@code regex} semantics (case-sensitive
 * contractions, Unicode White_Space for {@code \s}). Letters and digits are judged by the JDK's Unicode tables
 * (Unicode 13 on Java 17); a character assigned in a later Unicode version counts as punctuation, which can change
 * how a word containing it is split (ids still decode to the same text).
 *
 * <p>Get one from {@link Tokenizer#gpt2()}, {@link Tokenizer#load(Path)} or {@link BpeTrainer}; store it with
 * {@link #save(Path)}. Instances are immutable and thread-safe; {@link #withSpecialTokens} and
 * {@link #withPadToken} return new ones.
 */
public final class BpeTokenizer implements Tokenizer {

    /** Words up to this many characters are cached; together they cover almost all of natural text. */
    private static final int CACHED_PIECE_LENGTH = 24;
    private static final int CACHE_CAPACITY = 1 << 17;

    private final BpeModel model;
    /** Added tokens in id order; special ones are matched only when allowed, the others always. */
    private final List<AddedToken> added;
    private final Map<String, Integer> special;
    private final boolean[] isSpecial;
    /** Bytes of every id (null for ids without a token). */
    private final byte[][] bytesById;
    private final int vocabSize;
    private final int bos;
    private final int eos;
    private final int pad;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /** A token outside the merge vocabulary that is never split: a special (control) token or a user word. */
    record AddedToken(String content, int id, boolean special) {
    }

    /** {@code bos}, {@code eos} and {@code pad} spell the role tokens (added tokens or vocabulary entries), or null. */
    BpeTokenizer(BpeModel model, List<AddedToken> addedTokens, String bos, String eos, String pad) {
        this.model = model;
        List<AddedToken> sorted = new ArrayList<>(addedTokens);
        sorted.sort(Comparator.comparingInt(AddedToken::id));
        this.added = List.copyOf(sorted);
        int size = model.size();
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (AddedToken t : added) {
            if (t.content().isEmpty()) {
                throw new IllegalArgumentException("added token with id " + t.id() + " is empty");
            }
            if (t.id() < 0) {
                throw new IllegalArgumentException("added token \"" + t.content() + "\" has negative id " + t.id());
            }
            if (t.id() >= model.size() + added.size()) {
                throw new IllegalArgumentException("added token \"" + t.content() + "\" has id " + t.id()
                        + ", beyond the " + model.size() + " vocabulary entries and " + added.size() + " added tokens");
            }
            byte[] existing = model.bytes(t.id());
            if (existing != null && !Arrays.equals(existing, t.content().getBytes(StandardCharsets.UTF_8))) {
                throw new IllegalArgumentException("added token \"" + t.content() + "\" has id " + t.id()
                        + ", which the vocabulary already uses for \"" + model.tokenString(t.id()) + "\"");
            }
            size = Math.max(size, t.id() + 1);
            if (t.special()) {
                if (specials.put(t.content(), t.id()) != null) {
                    throw new IllegalArgumentException("special token \"" + t.content() + "\" is added twice");
                }
            }
        }
        this.vocabSize = size;
        this.special = Collections.unmodifiableMap(specials);
        this.isSpecial = new boolean[size];
        this.bytesById = new byte[size][];
        for (int id = 0; id < model.size(); id++) {
            bytesById[id] = model.bytes(id);
        }
        for (AddedToken t : added) {
            bytesById[t.id()] = t.content().getBytes(StandardCharsets.UTF_8);
        }
        for (int id : specials.values()) {
            isSpecial[id] = true;
        }
        this.bos = roleId("bos", bos);
        this.eos = roleId("eos", eos);
        this.pad = roleId("pad", pad);
    }

    private int roleId(String role, String token) {
        if (token == null) {
            return -1;
        }
        for (AddedToken t : added) {
            if (t.content().equals(token)) {
                return t.id();
            }
        }
        Integer id = model.vocab().get(token);
        if (id == null) {
            throw new IllegalArgumentException(role + " token \"" + token + "\" is not in the vocabulary");
        }
        return id;
    }

    private static final class Gpt2Holder {
        static final BpeTokenizer INSTANCE = create();

        private static BpeTokenizer create() {
            Gpt2Vocabulary.Files files = Gpt2Vocabulary.load();
            String eot = Gpt2Vocabulary.END_OF_TEXT;
            Map<String, Integer> vocab = new LinkedHashMap<>(files.vocab());
            vocab.put(eot, Gpt2Vocabulary.END_OF_TEXT_ID);
            return new BpeTokenizer(new BpeModel(vocab, files.merges(), false),
                    List.of(new AddedToken(eot, Gpt2Vocabulary.END_OF_TEXT_ID, true)), eot, eot, null);
        }
    }

    /** GPT-2's tokenizer, built once from the vocabulary JTokkit ships and shared. */
    public static BpeTokenizer gpt2() {
        return Gpt2Holder.INSTANCE;
    }

    // ------------------------------------------------------------------------------------------------ encode

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int[] encode(String text) {
        return encode(text, Set.of());
    }

    @Override
    public int safeSplit(CharSequence text) {
        for (AddedToken t : added) {
            if (!t.special()) {
                return 0; // plain added tokens split the text before the pre-tokenizer does: no cut is safe
            }
        }
        int n = text.length();
        int safe = 0;
        int i = 0;
        while (i < n) {
            int end = PreTokenizer.pieceEnd(text, i, n);
            // pieceEnd reads at most one character past the end it returns: a piece ending two before the end of
            // the text is decided by the text alone, not by what follows
            if (end + 1 >= n) {
                break;
            }
            safe = end;
            i = end;
        }
        return safe;
    }

    @Override
    public int[] encode(String text, Set<String> allowedSpecial) {
        IntList ids = new IntList(text.length() / 3 + 4);
        run(text, allowedSpecial, ids, null, null);
        return ids.toArray();
    }

    @Override
    public Encoding encodeWithOffsets(String text, Set<String> allowedSpecial) {
        IntList ids = new IntList(text.length() / 3 + 4);
        IntList starts = new IntList(text.length() / 3 + 4);
        IntList ends = new IntList(text.length() / 3 + 4);
        run(text, allowedSpecial, ids, starts, ends);
        return new Encoding(ids.toArray(), starts.toArray(), ends.toArray());
    }

    /** Splits on the enabled added tokens and encodes the ordinary text between them. */
    private void run(String text, Set<String> allowedSpecial, IntList ids, IntList starts, IntList ends) {
        PreTokenizer.requireWellFormed(text);
        List<AddedToken> enabled = enabledTokens(allowedSpecial);
        if (enabled.isEmpty()) {
            encodeOrdinary(text, 0, text.length(), ids, starts, ends);
            return;
        }
        int[] nextAt = new int[enabled.size()];
        Arrays.fill(nextAt, -2); // -2: not searched yet; -1: no more occurrences
        int pos = 0;
        while (true) {
            int best = -1;
            for (int k = 0; k < enabled.size(); k++) {
                if (nextAt[k] == -2 || (nextAt[k] >= 0 && nextAt[k] < pos)) {
                    nextAt[k] = text.indexOf(enabled.get(k).content(), pos);
                }
                // Earliest match wins; at the same position the longest (enabled is sorted longest first).
                if (nextAt[k] >= 0 && (best < 0 || nextAt[k] < nextAt[best])) {
                    best = k;
                }
            }
            if (best < 0) {
                encodeOrdinary(text, pos, text.length(), ids, starts, ends);
                return;
            }
            AddedToken t = enabled.get(best);
            int at = nextAt[best];
            encodeOrdinary(text, pos, at, ids, starts, ends);
            ids.add(t.id());
            if (starts != null) {
                starts.add(at);
                ends.add(at + t.content().length());
            }
            pos = at + t.content().length();
        }
    }

    private List<AddedToken> enabledTokens(Set<String> allowedSpecial) {
        for (String s : allowedSpecial) {
            if (!special.containsKey(s)) {
                throw new IllegalArgumentException("\"" + s + "\" is not a special token of this tokenizer; known: "
                        + special.keySet());
            }
        }
        List<AddedToken> enabled = new ArrayList<>();
        for (AddedToken t : added) {
            if (!t.special() || allowedSpecial.contains(t.content())) {
                enabled.add(t);
            }
        }
        enabled.sort(Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed());
        return enabled;
    }

    private void encodeOrdinary(String text, int from, int to, IntList ids, IntList starts, IntList ends) {
        int i = from;
        while (i < to) {
            int end = PreTokenizer.pieceEnd(text, i, to);
            int[] piece = encodePiece(text.substring(i, end));
            ids.addAll(piece);
            if (starts != null) {
                spans(text, i, end, piece, starts, ends);
            }
            i = end;
        }
    }

    private int[] encodePiece(String piece) {
        if (piece.length() > CACHED_PIECE_LENGTH) {
            return model.encode(piece.getBytes(StandardCharsets.UTF_8));
        }
        int[] ids = cache.get(piece);
        if (ids == null) {
            ids = model.encode(piece.getBytes(StandardCharsets.UTF_8));
            if (cache.size() < CACHE_CAPACITY) {
                cache.put(piece, ids);
            }
        }
        return ids;
    }

    /** Character spans of the tokens of one piece: each token covers the characters its bytes touch. */
    private void spans(String text, int from, int to, int[] piece, IntList starts, IntList ends) {
        int ci = from;   // the character holding the next unconsumed byte
        int charLen = 0; // its length in UTF-16 units
        int left = 0;    // its bytes not yet consumed
        for (int id : piece) {
            int n = bytesById[id].length;
            int start = -1;
            int end = -1;
            while (n > 0) {
                if (left == 0) {
                    int cp = text.codePointAt(ci);
                    charLen = Character.charCount(cp);
                    left = utf8Length(cp);
                }
                if (start < 0) {
                    start = ci;
                }
                int take = Math.min(n, left);
                n -= take;
                left -= take;
                end = ci + charLen;
                if (left == 0) {
                    ci += charLen;
                }
            }
            starts.add(start);
            ends.add(end);
        }
        assert ci == to : "spans out of step with the piece";
    }

    private static int utf8Length(int cp) {
        return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    }

    // ------------------------------------------------------------------------------------------------ decode

    @Override
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        return new String(decodeBytes(ids, skipSpecialTokens), StandardCharsets.UTF_8);
    }

    /** The raw bytes of a token sequence (may end inside a character). */
    public byte[] decodeBytes(int[] ids, boolean skipSpecialTokens) {
        int total = 0;
        for (int i = 0; i < ids.length; i++) {
            total += bytesOrThrow(ids[i], i).length;
        }
        byte[] out = new byte[total];
        int at = 0;
        for (int id : ids) {
            if (skipSpecialTokens && isSpecial[id]) {
                continue;
            }
            byte[] b = bytesOrThrow(id, -1);
            System.arraycopy(b, 0, out, at, b.length);
            at += b.length;
        }
        return at == total ? out : Arrays.copyOf(out, at);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return bytesOrThrow(id, -1).clone();
    }

    private byte[] bytesOrThrow(int id, int position) {
        byte[] b = id >= 0 && id < vocabSize ? bytesById[id] : null;
        if (b == null) {
            throw new IllegalArgumentException("token id " + id + (position >= 0 ? " at position " + position : "")
                    + " is outside the vocabulary (ids 0.." + (vocabSize - 1)
                    + (id >= 0 && id < vocabSize ? "; this id has no token" : "") + ")");
        }
        return b;
    }


    // ------------------------------------------------------------------------------------------------ tokens

    @Override
    public Map<String, Integer> specialTokens() {
        return special;
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < vocabSize && isSpecial[id];
    }

    @Override
    public OptionalInt bosId() {
        return bos < 0 ? OptionalInt.empty() : OptionalInt.of(bos);
    }

    @Override
    public OptionalInt eosId() {
        return eos < 0 ? OptionalInt.empty() : OptionalInt.of(eos);
    }

    @Override
    public OptionalInt padId() {
        return pad >= 0 ? OptionalInt.of(pad) : eosId();
    }

    /** The token's spelling in {@code vocab.json} (byte-level characters; an added token's plain text). */
    public String tokenString(int id) {
        String s = model.tokenString(id);
        if (s != null) {
            return s;
        }
        for (AddedToken t : added) {
            if (t.id() == id) {
                return t.content();
            }
        }
        throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (ids 0.."
                + (vocabSize - 1) + ")");
    }

    /** Number of merges (ranks). */
    public int mergeCount() {
        return model.mergeCount();
    }

    /**
     * A tokenizer with these special tokens added after the last id (tokens it already has keep their ids). The
     * model's embedding table must grow to the new {@link #vocabSize()}.
     */
    public BpeTokenizer withSpecialTokens(String... tokens) {
        List<AddedToken> all = new ArrayList<>(added);
        int next = vocabSize;
        for (String t : tokens) {
            if (special.containsKey(t) || all.stream().anyMatch(a -> a.content().equals(t))) {
                continue;
            }
            all.add(new AddedToken(t, next++, true));
        }
        return new BpeTokenizer(model, all, roleName(bos), roleName(eos), roleName(pad));
    }

    /** A tokenizer whose pad token is {@code token}, added as a special token if it is new. */
    public BpeTokenizer withPadToken(String token) {
        BpeTokenizer t = withSpecialTokens(token);
        return new BpeTokenizer(model, t.added, roleName(bos), roleName(eos), token);
    }

    private String roleName(int id) {
        return id < 0 ? null : tokenString(id);
    }

    /**
     * Writes {@code vocab.json}, {@code merges.txt}, {@code tokenizer.json}, {@code special_tokens_map.json} and
     * {@code tokenizer_config.json} into {@code directory}, as Hugging Face's {@code save_pretrained} does, so both
     * {@link Tokenizer#load(Path)} and transformers' {@code AutoTokenizer} read it back. Files are written atomically.
     */
    public void save(Path directory) throws IOException {
        TokenizerFiles.save(this, directory);
    }

    BpeModel model() {
        return model;
    }

    List<AddedToken> addedTokens() {
        return added;
    }

    @Override
    public String toString() {
        return "BpeTokenizer[vocab " + vocabSize + ", merges " + model.mergeCount() + ", special " + special.keySet()
                + "]";
    }

    /** Growable int array (avoids boxing on the encode path). */
    static final class IntList {
        private int[] a;
        private int n;

        IntList(int capacity) {
            a = new int[Math.max(4, capacity)];
        }

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, a.length * 2);
            }
            a[n++] = v;
        }

        void addAll(int[] v) {
            if (n + v.length > a.length) {
                a = Arrays.copyOf(a, Math.max(a.length * 2, n + v.length));
            }
            System.arraycopy(v, 0, a, n, v.length);
            n += v.length;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
