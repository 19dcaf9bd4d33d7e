package dev.attune.core.data;

import dev.attune.core.io.AtomicFiles;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A packed, memory-mapped file of token ids: a corpus tokenized once, read by any number of runs.
 *
 * <p>The layout is llm.c's {@code .bin} (readable by llm.c's and nanoGPT-style loaders): a header of 256
 * little-endian int32 values, {@code [0] = 20240520} (magic), {@code [1] = 1} for uint16 tokens or {@code 2} for
 * uint32 tokens, {@code [2] = } the number of tokens (or -1 when it exceeds 2^31 - 1, in which case the count comes
 * from the file size), the rest zero; then the tokens, little-endian. Tokens are uint16 when the vocabulary has at
 * most 65,536 entries (GPT-2's 50,257 does), else uint32.
 *
 * <p>Files of any size work: the file is mapped in windows of 1 GiB, released when the instance is garbage
 * collected (Java 17 has no explicit unmap). Instances are immutable and thread-safe.
 */
public final class TokenFile {

    /** llm.c's magic number for token files. */
    public static final int MAGIC = 20240520;
    static final int HEADER_INTS = 256;
    static final int HEADER_BYTES = HEADER_INTS * 4;
    private static final int SEGMENT_SHIFT = 30; // 1 GiB windows; token sizes (2, 4) divide them evenly

    private final Path path;
    private final int bytesPerToken;
    private final long size;
    private final MappedByteBuffer[] segments;

    private TokenFile(Path path, int bytesPerToken, long size, MappedByteBuffer[] segments) {
        this.path = path;
        this.bytesPerToken = bytesPerToken;
        this.size = size;
        this.segments = segments;
    }

    /** Receives documents while a token file is written. */
    public interface Sink {
        /** Appends tokens to the current document. */
        void append(int[] tokens) throws IOException;

        /** Ends the current document: writes the end-of-sequence token. */
        void endDocument() throws IOException;

        /** Appends a whole document's tokens, then the end-of-sequence token. */
        default void document(int[] tokens) throws IOException {
            append(tokens);
            endDocument();
        }

        /** Tokens written so far, separators included. */
        long tokens();
    }

    /** Something that feeds documents into a {@link Sink}. */
    @FunctionalInterface
    public interface Producer {
        void writeTo(Sink sink) throws IOException;
    }

    /**
     * Writes a token file atomically: {@code producer} hands over documents, each followed by {@code eosToken} in
     * the file. Every token must be in {@code [0, vocabSize)}.
     *
     * @return the number of tokens written
     */
    public static long write(Path file, int vocabSize, int eosToken, Producer producer) throws IOException {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabulary size must be positive, got " + vocabSize);
        }
        if (eosToken < 0 || eosToken >= vocabSize) {
            throw new IllegalArgumentException("end-of-sequence id " + eosToken + " is outside the vocabulary [0, "
                    + vocabSize + ")");
        }
        int width = vocabSize <= 65_536 ? 2 : 4;
        long[] written = new long[1];
        AtomicFiles.writeChannel(file, channel -> {
            channel.write(ByteBuffer.allocate(HEADER_BYTES)); // placeholder, filled in at the end
            ByteBuffer buffer = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            long[] documents = new long[1];
            Sink sink = new Sink() {
                private long inDocument;

                @Override
                public void append(int[] tokens) throws IOException {
                    for (int i = 0; i < tokens.length; i++) {
                        put(tokens[i], inDocument + i);
                    }
                    inDocument += tokens.length;
                    written[0] += tokens.length;
                }

                @Override
                public void endDocument() throws IOException {
                    put(eosToken, inDocument);
                    written[0]++;
                    documents[0]++;
                    inDocument = 0;
                }

                private void put(int t, long position) throws IOException {
                    if (t < 0 || t >= vocabSize) {
                        throw new IllegalArgumentException("document " + documents[0] + ", token " + position
                                + ": id " + t + " is outside the vocabulary [0, " + vocabSize + ")");
                    }
                    if (buffer.remaining() < width) {
                        drain(channel, buffer);
                    }
                    if (width == 2) {
                        buffer.putShort((short) t);
                    } else {
                        buffer.putInt(t);
                    }
                }

                @Override
                public long tokens() {
                    return written[0];
                }
            };
            producer.writeTo(sink);
            drain(channel, buffer);
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            header.putInt(MAGIC).putInt(width == 2 ? 1 : 2).putInt(written[0] <= Integer.MAX_VALUE ? (int) written[0] : -1);
            header.clear();
            channel.position(0);
            while (header.hasRemaining()) {
                channel.write(header);
            }
        });
        return written[0];
    }

    private static void drain(FileChannel channel, ByteBuffer buffer) throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        buffer.clear();
    }

    /** Writes {@code documents} (each followed by {@code eosToken}) to a token file. */
    public static long write(Path file, int vocabSize, int eosToken, List<int[]> documents) throws IOException {
        return write(file, vocabSize, eosToken, sink -> {
            for (int[] d : documents) {
                sink.document(d);
            }
        });
    }

    /**
     * Tokenizes text files into a token file, each file one document followed by the tokenizer's end-of-sequence
     * token. Files are read as UTF-8 and encoded in pieces of about 1 MiB cut at paragraph breaks, where the
     * pieces encode to the same ids as the whole file would, so corpora larger than memory work.
     *
     * @return the number of tokens written
     * @throws IOException naming the file that cannot be read or is not UTF-8
     */
    public static long tokenize(Path file, Tokenizer tokenizer, List<Path> textFiles) throws IOException {
        endOfSequence(tokenizer);
        for (Path text : textFiles) {
            if (!Files.isRegularFile(text)) {
                throw new NoSuchFileException(text.toString(), null, "corpus file not found");
            }
        }
        return tokenize(file, tokenizer, textFiles, PIECE_CHARS);
    }

    static long tokenize(Path file, Tokenizer tokenizer, List<Path> textFiles, int pieceChars) throws IOException {
        return write(file, tokenizer.vocabSize(), endOfSequence(tokenizer), sink -> {
            for (Path text : textFiles) {
                encodeFile(tokenizer, text, sink, pieceChars);
                sink.endDocument();
            }
        });
    }

    /** Tokenizes documents given as strings, each followed by the tokenizer's end-of-sequence token. */
    public static long tokenizeTexts(Path file, Tokenizer tokenizer, List<String> documents) throws IOException {
        int eos = endOfSequence(tokenizer);
        return write(file, tokenizer.vocabSize(), eos, sink -> {
            for (String d : documents) {
                sink.document(tokenizer.encode(d));
            }
        });
    }

    static int endOfSequence(Tokenizer tokenizer) {
        return tokenizer.eosId().orElseThrow(() -> new IllegalArgumentException(
                "the tokenizer has no end-of-sequence token to put between documents"));
    }

    private static final int PIECE_CHARS = 1 << 20;

    /**
     * Encodes a text file piece by piece into the sink, in time linear in its length: text is decoded in blocks and
     * cut where the tokenizer says the ids cannot depend on what follows ({@link Tokenizer#safeSplit}), which is
     * searched again only once the unencoded text has doubled, so a file without line breaks, or one long run of a
     * single character, costs no rescanning. A byte-order mark at the start of the file is not text and is skipped.
     */
    private static void encodeFile(Tokenizer tokenizer, Path text, Sink sink, int pieceChars) throws IOException {
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        byte[] block = new byte[1 << 16];
        ByteBuffer bytes = ByteBuffer.wrap(block);
        bytes.limit(0);
        CharBuffer chars = CharBuffer.allocate(1 << 16);
        StringBuilder pending = new StringBuilder();
        long decoded = 0; // bytes of the file decoded so far
        long line = 1;
        boolean start = true;
        int nextSearch = pieceChars;
        try (InputStream in = Files.newInputStream(text)) {
            boolean eof = false;
            while (!eof) {
                bytes.compact();
                int n = in.read(block, bytes.position(), bytes.remaining());
                eof = n < 0;
                if (n > 0) {
                    bytes.position(bytes.position() + n);
                }
                bytes.flip();
                CoderResult r;
                do {
                    int before = bytes.position();
                    r = utf8.decode(bytes, chars, eof);
                    decoded += bytes.position() - before;
                    if (r.isError()) {
                        throw new IOException(String.format(Locale.ROOT, "%s, line %d: not UTF-8 text (byte %d of the "
                                + "file is 0x%02X)", text, line + newlines(chars), decoded, block[bytes.position()] & 0xFF));
                    }
                    if (eof && !r.isOverflow()) {
                        r = utf8.flush(chars);
                    }
                    line += newlines(chars);
                    chars.flip();
                    pending.append(chars);
                    chars.clear();
                } while (r.isOverflow());
                if (start && pending.length() > 0) {
                    if (pending.charAt(0) == '\uFEFF') {
                        pending.deleteCharAt(0);
                    }
                    start = false;
                }
                if (pending.length() >= nextSearch) {
                    int cut = tokenizer.safeSplit(pending);
                    if (cut > 0) {
                        sink.append(tokenizer.encode(pending.substring(0, cut)));
                        pending.delete(0, cut);
                    }
                    nextSearch = Math.max(pieceChars, 2 * pending.length());
                }
            }
        }
        sink.append(tokenizer.encode(pending.toString()));
    }

    /** Line breaks among the characters written into {@code chars} (position = end of them). */
    private static int newlines(CharBuffer chars) {
        int count = 0;
        for (int i = 0; i < chars.position(); i++) {
            if (chars.get(i) == '\n') {
                count++;
            }
        }
        return count;
    }

    /**
     * Opens and memory-maps a token file.
     *
     * @throws IOException if the file is missing, is not a token file, or is truncated (the message says which)
     */
    public static TokenFile open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "token file not found");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long bytes = channel.size();
            if (bytes < HEADER_BYTES) {
                throw new IOException(file + ": not a token file (" + bytes + " bytes, the header alone has "
                        + HEADER_BYTES + ")");
            }
            ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            while (header.hasRemaining()) {
                channel.read(header, header.position());
            }
            header.flip();
            int magic = header.getInt();
            int version = header.getInt();
            int count = header.getInt();
            if (magic != MAGIC) {
                throw new IOException(file + ": not a token file (magic number " + magic + ", expected " + MAGIC + ")");
            }
            if (version != 1 && version != 2) {
                throw new IOException(file + ": unsupported token file version " + version
                        + " (1 = uint16 tokens, 2 = uint32 tokens)");
            }
            int width = version == 1 ? 2 : 4;
            long payload = bytes - HEADER_BYTES;
            if (payload % width != 0) {
                throw new IOException(file + ": " + payload + " bytes of tokens is not a whole number of "
                        + width + "-byte tokens; the file is truncated");
            }
            long size = payload / width;
            if (count >= 0 && count != size) {
                throw new IOException(file + ": the header says " + count + " tokens but the file holds " + size
                        + "; the file is truncated or was written by another tool");
            }
            List<MappedByteBuffer> maps = new ArrayList<>();
            for (long at = 0; at < payload; at += 1L << SEGMENT_SHIFT) {
                long length = Math.min(1L << SEGMENT_SHIFT, payload - at);
                MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_ONLY, HEADER_BYTES + at, length);
                m.order(ByteOrder.LITTLE_ENDIAN);
                maps.add(m);
            }
            return new TokenFile(file, width, size, maps.toArray(new MappedByteBuffer[0]));
        }
    }

    public Path path() {
        return path;
    }

    /** Number of tokens. */
    public long size() {
        return size;
    }

    /** 2 (uint16) or 4 (uint32). */
    public int bytesPerToken() {
        return bytesPerToken;
    }

    /** Token {@code index}. */
    public int get(long index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("token " + index + " of " + size + " in " + path);
        }
        long byteAt = index * bytesPerToken;
        MappedByteBuffer segment = segments[(int) (byteAt >>> SEGMENT_SHIFT)];
        int within = (int) (byteAt & ((1L << SEGMENT_SHIFT) - 1));
        return bytesPerToken == 2 ? Short.toUnsignedInt(segment.getShort(within)) : segment.getInt(within);
    }

    /** Copies tokens {@code [from, from + length)} into {@code destination[offset...]}. */
    public void read(long from, int[] destination, int offset, int length) {
        if (from < 0 || length < 0 || from + length > size) {
            throw new IndexOutOfBoundsException("tokens [" + from + ", " + (from + length) + ") of " + size + " in "
                    + path);
        }
        for (int i = 0; i < length; i++) {
            destination[offset + i] = get(from + i);
        }
    }

    /** Tokens {@code [from, from + length)} as a new array. */
    public int[] read(long from, int length) {
        int[] out = new int[length];
        read(from, out, 0, length);
        return out;
    }

    @Override
    public String toString() {
        return "TokenFile[" + path + ", " + size + " tokens, uint" + (bytesPerToken * 8) + "]";
    }
}
