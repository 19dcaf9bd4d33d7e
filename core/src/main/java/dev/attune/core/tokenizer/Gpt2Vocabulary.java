package dev.attune.core.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPT-2's vocabulary and merges, rebuilt offline from the {@code r50k_base} rank file that JTokkit ships (tiktoken's
 * name for GPT-2's encoding). The file lists every token's bytes with its rank, and rank equals GPT-2's token id.
 * It has no merge list, so the merges are recovered: the merge that creates a token of rank r is the pair that
 * rank-ordered BPE over the token's own bytes, using only ranks below r, leaves behind. Ranks 256..50255 give
 * GPT-2's 50,000 merges in {@code merges.txt} order (the test suite checks the result against the digest of the
 * original file).
 */
final class Gpt2Vocabulary {

    static final String RESOURCE = "/com/knuddels/jtokkit/r50k_base.tiktoken";
    static final String END_OF_TEXT = "<|endoftext|>";
    static final int END_OF_TEXT_ID = 50256;

    private Gpt2Vocabulary() {
    }

    /** Vocabulary (byte-level strings to ids, without {@code <|endoftext|>}) and merges in rank order. */
    record Files(Map<String, Integer> vocab, List<String[]> merges) {
    }

    static Files load() {
        List<byte[]> byRank = readRanks();
        Map<ByteKey, Integer> rankOf = new HashMap<>(byRank.size() * 2);
        for (int r = 0; r < byRank.size(); r++) {
            rankOf.put(new ByteKey(byRank.get(r)), r);
        }
        Map<String, Integer> vocab = new LinkedHashMap<>(byRank.size() * 2);
        List<String[]> merges = new ArrayList<>(byRank.size());
        for (int r = 0; r < byRank.size(); r++) {
            byte[] token = byRank.get(r);
            vocab.put(ByteLevel.encode(token), r);
            if (token.length == 1) {
                continue;
            }
            byte[][] parts = splitBelow(token, r, rankOf);
            merges.add(new String[] {ByteLevel.encode(parts[0]), ByteLevel.encode(parts[1])});
        }
        return new Files(vocab, merges);
    }

    /** Runs rank-ordered BPE over {@code token}'s bytes with ranks below {@code maxRank}; must end in two parts. */
    private static byte[][] splitBelow(byte[] token, int maxRank, Map<ByteKey, Integer> rankOf) {
        List<byte[]> parts = new ArrayList<>(token.length);
        for (byte b : token) {
            parts.add(new byte[] {b});
        }
        while (parts.size() > 2) {
            int best = -1;
            int bestRank = maxRank;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer rank = rankOf.get(new ByteKey(concat(parts.get(i), parts.get(i + 1))));
                if (rank != null && rank < bestRank) {
                    bestRank = rank;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            parts.set(best, concat(parts.get(best), parts.remove(best + 1)));
        }
        if (parts.size() != 2) {
            throw new IllegalStateException("r50k_base: token of rank " + maxRank + " cannot be built from lower ranks");
        }
        return new byte[][] {parts.get(0), parts.get(1)};
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static List<byte[]> readRanks() {
        InputStream in = Gpt2Vocabulary.class.getResourceAsStream(RESOURCE);
        if (in == null) {
            throw new IllegalStateException("GPT-2 vocabulary " + RESOURCE
                    + " not found on the class path; it comes with com.knuddels:jtokkit");
        }
        List<byte[]> byRank = new ArrayList<>(50256);
        Base64.Decoder base64 = Base64.getDecoder();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            String line;
            int lineNo = 0;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isEmpty()) {
                    continue;
                }
                int space = line.indexOf(' ');
                int rank = space < 0 ? -1 : Integer.parseInt(line.substring(space + 1));
                if (rank != byRank.size()) {
                    throw new IllegalStateException(RESOURCE + " line " + lineNo + ": expected rank " + byRank.size());
                }
                byRank.add(base64.decode(line.substring(0, space)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE, e);
        }
        if (byRank.size() != END_OF_TEXT_ID) {
            throw new IllegalStateException(RESOURCE + ": expected " + END_OF_TEXT_ID + " ranks, found " + byRank.size());
        }
        return byRank;
    }

    /** byte[] with value equality, for hash lookups. */
    private record ByteKey(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof ByteKey k && java.util.Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(bytes);
        }
    }
}
