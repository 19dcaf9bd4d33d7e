package dev.attune.core.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learns a new GPT-2-style byte-level BPE vocabulary from a corpus.
 *
 * <pre>{@code
 * BpeTokenizer tok = BpeTrainer.builder().vocabSize(8192).minFrequency(2).build().train(files);
 * tok.save(modelDir);   // vocab.json, merges.txt, tokenizer.json, ...
 * }</pre>
 *
 * <p>The corpus is split with GPT-2's pre-tokenizer, so merges never cross word boundaries. Ids 0-255 are the 256
 * bytes in GPT-2's order (the same byte ids as GPT-2), then one id per merge in the order learned, then the special
 * tokens. Each step merges the most frequent adjacent pair; ties go to the pair whose left, then right, id is
 * smaller, so training is deterministic. Training stops at the target size or when the best pair occurs fewer than
 * {@code minFrequency} times.
 *
 * <p>Pair counts are updated incrementally (only words containing the merged pair are revisited), so a few MB of
 * text train to a 32k vocabulary in seconds. Progress is logged at debug level.
 *
 * @param vocabSize     target number of ids, including the 256 byte tokens and the special tokens
 * @param minFrequency  a pair is merged only if it occurs at least this often
 * @param specialTokens special tokens appended after the merges; {@code <|endoftext|>}, if present, becomes bos and
 *                      eos
 */
public record BpeTrainer(int vocabSize, int minFrequency, List<String> specialTokens) {

    private static final Logger LOG = LoggerFactory.getLogger(BpeTrainer.class);

    public BpeTrainer {
        specialTokens = List.copyOf(specialTokens);
        if (vocabSize < 256 + specialTokens.size()) {
            throw new IllegalArgumentException("vocabSize must be at least 256 + the " + specialTokens.size()
                    + " special tokens, got " + vocabSize);
        }
        if (minFrequency < 1) {
            throw new IllegalArgumentException("minFrequency must be >= 1, got " + minFrequency);
        }
        if (specialTokens.stream().distinct().count() != specialTokens.size() || specialTokens.contains("")) {
            throw new IllegalArgumentException("special tokens must be distinct and non-empty: " + specialTokens);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Trains on text files read as UTF-8, line by line (line breaks are kept as part of the text). */
    public BpeTokenizer trainFiles(List<Path> files) throws IOException {
        Map<String, long[]> counts = new HashMap<>();
        for (Path file : files) {
            try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                // Lines keep their terminators: GPT-2's pre-tokenizer treats "\n" as part of the text.
                char[] buf = new char[1 << 16];
                StringBuilder line = new StringBuilder();
                int lineNo = 1;
                int read;
                while ((read = in.read(buf)) > 0) {
                    int start = 0;
                    for (int i = 0; i < read; i++) {
                        if (buf[i] == '\n') {
                            line.append(buf, start, i + 1 - start);
                            countPieces(line, counts, file + " line " + lineNo++);
                            line.setLength(0);
                            start = i + 1;
                        }
                    }
                    line.append(buf, start, read - start);
                }
                countPieces(line, counts, file + " line " + lineNo);
            } catch (java.nio.charset.MalformedInputException e) {
                throw new IOException(file + ": not valid UTF-8", e);
            }
        }
        return train(counts);
    }

    /** Trains on texts (documents, lines, ...), each pre-tokenized on its own. */
    public BpeTokenizer train(Iterable<String> texts) {
        return train(texts.iterator());
    }

    /** Trains on texts (documents, lines, ...), each pre-tokenized on its own. */
    public BpeTokenizer train(Iterator<String> texts) {
        Map<String, long[]> counts = new HashMap<>();
        long n = 0;
        while (texts.hasNext()) {
            countPieces(texts.next(), counts, "text " + n++);
        }
        return train(counts);
    }

    private static void countPieces(CharSequence text, Map<String, long[]> counts, String where) {
        try {
            PreTokenizer.requireWellFormed(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
        int i = 0;
        int n = text.length();
        while (i < n) {
            int end = PreTokenizer.pieceEnd(text, i, n);
            counts.computeIfAbsent(text.subSequence(i, end).toString(), k -> new long[1])[0]++;
            i = end;
        }
    }

    // ------------------------------------------------------------------------------------------------ training

    /** A candidate merge in the queue; {@code count} may be stale (too high), never too low. */
    private record Candidate(long count, int left, int right) {
    }

    private BpeTokenizer train(Map<String, long[]> pieceCounts) {
        int[] byteId = byteIds();
        // Words: distinct pieces as symbol sequences, with their counts. Sorted so that ids do not depend on
        // hash-map order (word order does not change the result, but keeps runs identical step by step).
        List<String> pieces = new ArrayList<>(pieceCounts.keySet());
        pieces.sort(null);
        int w = pieces.size();
        int[][] words = new int[w][];
        int[] lengths = new int[w];
        long[] wordCounts = new long[w];
        for (int i = 0; i < w; i++) {
            byte[] bytes = pieces.get(i).getBytes(StandardCharsets.UTF_8);
            words[i] = new int[bytes.length];
            for (int k = 0; k < bytes.length; k++) {
                words[i][k] = byteId[bytes[k] & 0xFF];
            }
            lengths[i] = bytes.length;
            wordCounts[i] = pieceCounts.get(pieces.get(i))[0];
        }
        pieceCounts.clear();

        Map<Long, Pair> pairs = new HashMap<>();
        for (int i = 0; i < w; i++) {
            for (int k = 0; k + 1 < lengths[i]; k++) {
                Pair p = pairs.computeIfAbsent(key(words[i][k], words[i][k + 1]), x -> new Pair());
                p.count += wordCounts[i];
                p.addWord(i);
            }
        }
        PriorityQueue<Candidate> queue = new PriorityQueue<>(
                (a, b) -> a.count != b.count ? Long.compare(b.count, a.count)
                        : a.left != b.left ? Integer.compare(a.left, b.left) : Integer.compare(a.right, b.right));
        pairs.forEach((k, p) -> queue.add(new Candidate(p.count, (int) (k >>> 32), (int) (long) k)));

        int maxMerges = vocabSize - 256 - specialTokens.size();
        List<int[]> merges = new ArrayList<>();
        int[] seen = new int[w];
        Arrays.fill(seen, -1);
        while (merges.size() < maxMerges && !queue.isEmpty()) {
            Candidate top = queue.poll();
            Pair pair = pairs.get(key(top.left, top.right));
            long current = pair == null ? 0 : pair.count;
            if (current != top.count) {
                if (current > 0) {
                    queue.add(new Candidate(current, top.left, top.right));
                }
                continue;
            }
            if (current < minFrequency) {
                break;
            }
            int newId = 256 + merges.size();
            merges.add(new int[] {top.left, top.right});
            Map<Long, Pair> created = new HashMap<>();
            int stamp = merges.size();
            for (int k = 0; k < pair.wordCount; k++) {
                int i = pair.words[k];
                if (seen[i] == stamp) {
                    continue;
                }
                seen[i] = stamp;
                applyMerge(i, top.left, top.right, newId, words, lengths, wordCounts, pairs, created);
            }
            pairs.remove(key(top.left, top.right));
            created.forEach((k, p) -> {
                if (p.count > 0) {
                    queue.add(new Candidate(p.count, (int) (k >>> 32), (int) (long) k));
                }
            });
            if (LOG.isDebugEnabled() && merges.size() % 1000 == 0) {
                LOG.debug("BPE training: {} of {} merges", merges.size(), maxMerges);
            }
        }
        if (merges.size() < maxMerges) {
            LOG.warn("BPE training: the requested vocabulary size {} cannot be reached: the texts offer only {} merges "
                    + "of pairs occurring at least {} time{}, so the vocabulary has {} ids (256 bytes, {} merges, {} "
                    + "special token{}); give more text or a smaller vocabSize", vocabSize, merges.size(), minFrequency,
                    minFrequency == 1 ? "" : "s", 256 + merges.size() + specialTokens.size(), merges.size(),
                    specialTokens.size(), specialTokens.size() == 1 ? "" : "s");
        }
        return build(merges);
    }

    /** Merges every (left, right) in word i, left to right, and updates the pair counts. */
    private static void applyMerge(int i, int left, int right, int newId, int[][] words, int[] lengths,
                                   long[] wordCounts, Map<Long, Pair> pairs, Map<Long, Pair> created) {
        int[] word = words[i];
        int n = lengths[i];
        boolean found = false;
        for (int k = 0; k + 1 < n; k++) {
            if (word[k] == left && word[k + 1] == right) {
                found = true;
                break;
            }
        }
        if (!found) {
            return; // stale entry: an earlier merge already consumed this word's occurrences
        }
        long c = wordCounts[i];
        for (int k = 0; k + 1 < n; k++) {
            Pair p = pairs.get(key(word[k], word[k + 1]));
            if (p != null) {
                p.count -= c;
            }
        }
        int out = 0;
        for (int k = 0; k < n; k++) {
            if (k + 1 < n && word[k] == left && word[k + 1] == right) {
                word[out++] = newId;
                k++;
            } else {
                word[out++] = word[k];
            }
        }
        lengths[i] = out;
        for (int k = 0; k + 1 < out; k++) {
            long key = key(word[k], word[k + 1]);
            Pair p = pairs.computeIfAbsent(key, x -> new Pair());
            p.count += c;
            if (word[k] == newId || word[k + 1] == newId) {
                p.addWord(i);
                created.put(key, p);
            }
        }
    }

    private BpeTokenizer build(List<int[]> merges) {
        String[] spelling = new String[256 + merges.size()];
        Map<String, Integer> vocab = new LinkedHashMap<>();
        int[] byteId = byteIds();
        for (int b = 0; b < 256; b++) {
            spelling[byteId[b]] = String.valueOf(ByteLevel.charOf(b));
        }
        for (int id = 0; id < 256; id++) {
            vocab.put(spelling[id], id);
        }
        List<String[]> mergeStrings = new ArrayList<>(merges.size());
        for (int r = 0; r < merges.size(); r++) {
            int[] m = merges.get(r);
            spelling[256 + r] = spelling[m[0]] + spelling[m[1]];
            vocab.put(spelling[256 + r], 256 + r);
            mergeStrings.add(new String[] {spelling[m[0]], spelling[m[1]]});
        }
        List<BpeTokenizer.AddedToken> added = new ArrayList<>();
        for (String s : specialTokens) {
            added.add(new BpeTokenizer.AddedToken(s, 256 + merges.size() + added.size(), true));
        }
        String eot = specialTokens.contains(Gpt2Vocabulary.END_OF_TEXT) ? Gpt2Vocabulary.END_OF_TEXT : null;
        return new BpeTokenizer(new BpeModel(vocab, mergeStrings, false), added, eot, eot, null);
    }

    /** GPT-2's byte ids: bytes ordered by the character that spells them. */
    private static int[] byteIds() {
        Integer[] bytes = new Integer[256];
        for (int b = 0; b < 256; b++) {
            bytes[b] = b;
        }
        Arrays.sort(bytes, (a, b) -> Character.compare(ByteLevel.charOf(a), ByteLevel.charOf(b)));
        int[] id = new int[256];
        for (int k = 0; k < 256; k++) {
            id[bytes[k]] = k;
        }
        return id;
    }

    private static long key(int left, int right) {
        return (long) left << 32 | (right & 0xFFFFFFFFL);
    }

    /** Count of a pair over the corpus and the words it occurs in (may hold duplicates and stale entries). */
    private static final class Pair {
        long count;
        int[] words = new int[2];
        int wordCount;

        void addWord(int i) {
            if (wordCount > 0 && words[wordCount - 1] == i) {
                return;
            }
            if (wordCount == words.length) {
                words = Arrays.copyOf(words, wordCount * 2);
            }
            words[wordCount++] = i;
        }
    }

    /** Fluent builder; defaults: 32,000 ids, minimum frequency 2, special token {@code <|endoftext|>}. */
    public static final class Builder {
        private int vocabSize = 32_000;
        private int minFrequency = 2;
        private List<String> specialTokens = List.of(Gpt2Vocabulary.END_OF_TEXT);

        private Builder() {
        }

        /** Target number of ids (bytes + merges + special tokens). */
        public Builder vocabSize(int n) { this.vocabSize = n; return this; }
        /** Pairs occurring fewer times are never merged. */
        public Builder minFrequency(int n) { this.minFrequency = n; return this; }
        /** Special tokens, appended after the merges in this order. */
        public Builder specialTokens(String... tokens) { this.specialTokens = List.of(tokens); return this; }

        public BpeTrainer build() {
            return new BpeTrainer(vocabSize, minFrequency, specialTokens);
        }
    }
}
