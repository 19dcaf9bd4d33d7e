package dev.attune.core.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPT-2's vocabulary and merges, rebuilt offline from the {@code r50k_base} rank file that JTokkit ships (tiktoken's
 * name for GPT-2's encoding). The file lists every token's bytes with its rank, and rank equals GPT-2's token id.
 * It has no merge list, so the merges are recovered: the merge that creates the token of rank r is the pair of
 * tokens that BPE with the merges of lower rank leaves when run over the token's own bytes. Ranks 256..50255 give
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
        Map<String, Integer> vocab = new LinkedHashMap<>(byRank.size() * 2);
        List<String[]> merges = new ArrayList<>(byRank.size());
        String[] spelling = new String[byRank.size()];
        int[] byteToId = new int[256];
        java.util.Arrays.fill(byteToId, -1);
        // Merges known so far, keyed by pair; a merge's rank is the rank of the token it makes.
        BpeModel.PairTable pairs = new BpeModel.PairTable(byRank.size());
        for (int r = 0; r < byRank.size(); r++) {
            byte[] token = byRank.get(r);
            spelling[r] = ByteLevel.encode(token);
            vocab.put(spelling[r], r);
            if (token.length == 1) {
                byteToId[token[0] & 0xFF] = r;
                continue;
            }
            int[] sym = new int[token.length];
            for (int i = 0; i < token.length; i++) {
                sym[i] = byteToId[token[i] & 0xFF];
                if (sym[i] < 0) {
                    throw new IllegalStateException(RESOURCE + ": token of rank " + r + " uses a byte with no rank");
                }
            }
            int[] parts = BpeModel.merge(sym, pairs);
            if (parts.length != 2) {
                throw new IllegalStateException(RESOURCE + ": token of rank " + r
                        + " is not a merge of two lower-ranked tokens");
            }
            merges.add(new String[] {spelling[parts[0]], spelling[parts[1]]});
            pairs.putIfAbsent(parts[0], parts[1], r, r);
        }
        return new Files(vocab, merges);
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
}
