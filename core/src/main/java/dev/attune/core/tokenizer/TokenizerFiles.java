package dev.attune.core.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.io.AtomicFiles;
import dev.attune.core.io.StrictJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the Hugging Face tokenizer files of a byte-level BPE: {@code vocab.json}, {@code merges.txt},
 * {@code tokenizer.json}, {@code special_tokens_map.json}, {@code added_tokens.json}, {@code tokenizer_config.json}.
 * Every error names the file, and the line where the format has lines.
 */
final class TokenizerFiles {

    static final String VOCAB = "vocab.json";
    static final String MERGES = "merges.txt";
    static final String TOKENIZER_JSON = "tokenizer.json";
    static final String SPECIAL_TOKENS_MAP = "special_tokens_map.json";
    static final String ADDED_TOKENS = "added_tokens.json";
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenizerFiles() {
    }

    // ------------------------------------------------------------------------------------------------ load

    static BpeTokenizer load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "not a directory");
        }
        Path tokenizerJson = dir.resolve(TOKENIZER_JSON);
        Path vocab = dir.resolve(VOCAB);
        Path merges = dir.resolve(MERGES);
        Roles roles = readRoles(dir);
        if (Files.isRegularFile(tokenizerJson)) {
            return readTokenizerJson(tokenizerJson, roles);
        }
        if (!Files.isRegularFile(vocab) || !Files.isRegularFile(merges)) {
            throw new NoSuchFileException(dir.toString(), null, "no tokenizer files: expected " + TOKENIZER_JSON
                    + ", or " + VOCAB + " and " + MERGES);
        }
        Map<String, Integer> v = readVocab(vocab);
        List<String[]> m = new ArrayList<>();
        List<Integer> lines = new ArrayList<>();
        readMerges(merges, m, lines);
        BpeModel model;
        try {
            model = new BpeModel(v, m, false);
        } catch (BpeModel.MergeException e) {
            throw new IOException(merges + " line " + lines.get(e.rank) + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IOException(vocab + ": " + e.getMessage(), e);
        }
        // Added tokens: added_tokens.json, tokenizer_config.json's added_tokens_decoder, and the role tokens.
        Map<String, BpeTokenizer.AddedToken> added = new LinkedHashMap<>();
        Path addedFile = dir.resolve(ADDED_TOKENS);
        if (Files.isRegularFile(addedFile)) {
            for (Iterator<Map.Entry<String, JsonNode>> it = readJson(addedFile).fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber()) {
                    throw new IOException(addedFile + ": id of \"" + e.getKey() + "\" must be an integer, got "
                            + e.getValue());
                }
                added.put(e.getKey(), new BpeTokenizer.AddedToken(e.getKey(), e.getValue().asInt(), true));
            }
        }
        for (BpeTokenizer.AddedToken t : roles.addedDecoder) {
            added.put(t.content(), t);
        }
        List<String> specials = new ArrayList<>(roles.additional);
        for (String r : new String[] {roles.bos, roles.eos, roles.pad, roles.unk}) {
            if (r != null) {
                specials.add(r);
            }
        }
        if (v.containsKey(Gpt2Vocabulary.END_OF_TEXT)) {
            specials.add(Gpt2Vocabulary.END_OF_TEXT); // GPT2Tokenizer's default bos/eos/unk
        }
        int next = model.size();
        for (String s : specials) {
            if (added.containsKey(s)) {
                continue;
            }
            Integer id = v.get(s);
            added.put(s, new BpeTokenizer.AddedToken(s, id != null ? id : next++, true));
        }
        return build(model, new ArrayList<>(added.values()), roles, v, dir.toString());
    }

    private static BpeTokenizer build(BpeModel model, List<BpeTokenizer.AddedToken> added, Roles roles,
                                      Map<String, Integer> vocab, String where) throws IOException {
        String bos = roles.bos;
        String eos = roles.eos;
        boolean hasEot = vocab.containsKey(Gpt2Vocabulary.END_OF_TEXT)
                || added.stream().anyMatch(t -> t.content().equals(Gpt2Vocabulary.END_OF_TEXT));
        if (!roles.explicit && hasEot) {
            bos = Gpt2Vocabulary.END_OF_TEXT;
            eos = Gpt2Vocabulary.END_OF_TEXT;
        }
        try {
            return new BpeTokenizer(model, added, bos, eos, roles.pad);
        } catch (IllegalArgumentException e) {
            throw new IOException(where + ": " + e.getMessage(), e);
        }
    }

    /** Reads {@code vocab.json} with a streaming parser so that errors can name the line. */
    static Map<String, Integer> readVocab(Path file) throws IOException {
        Map<String, Integer> vocab = new LinkedHashMap<>(1 << 16);
        try (JsonParser p = new JsonFactory().createParser(Files.newBufferedReader(file, StandardCharsets.UTF_8))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException(file + " line " + p.currentLocation().getLineNr()
                        + ": expected a JSON object mapping token to id");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String token = p.currentName();
                JsonToken value = p.nextToken();
                if (value != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT
                        || p.getIntValue() < 0) {
                    throw new IOException(file + " line " + p.currentLocation().getLineNr() + ": id of \"" + token
                            + "\" must be a non-negative integer, got " + p.getText());
                }
                if (vocab.put(token, p.getIntValue()) != null) {
                    throw new IOException(file + " line " + p.currentLocation().getLineNr() + ": \"" + token
                            + "\" appears twice");
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT) {
                throw new IOException(file + " line " + p.currentLocation().getLineNr() + ": expected a token");
            }
        } catch (JsonProcessingException e) {
            throw new IOException(file + " line " + e.getLocation().getLineNr() + ": not valid JSON: "
                    + e.getOriginalMessage(), e);
        }
        return vocab;
    }

    /** Reads {@code merges.txt}: an optional {@code #version} line, then one {@code "left right"} pair a line. */
    static void readMerges(Path file, List<String[]> merges, List<Integer> lineNumbers) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if ((lineNo == 1 && line.startsWith("#version")) || line.isEmpty()) {
                    continue;
                }
                int space = line.indexOf(' ');
                if (space <= 0 || space == line.length() - 1 || line.indexOf(' ', space + 1) >= 0) {
                    throw new IOException(file + " line " + lineNo
                            + ": expected two tokens separated by one space, got \"" + line + "\"");
                }
                merges.add(new String[] {line.substring(0, space), line.substring(space + 1)});
                lineNumbers.add(lineNo);
            }
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IOException(file + ": not valid UTF-8", e);
        }
    }

    static BpeTokenizer readTokenizerJson(Path file, Roles roles) throws IOException {
        JsonNode root = readJson(file);
        JsonNode model = root.path("model");
        String type = model.path("type").asText("BPE");
        if (!model.isObject() || !type.equals("BPE")) {
            throw new IOException(file + ": model.type is \"" + type + "\"; only BPE is supported");
        }
        requireByteLevel(file, root.path("pre_tokenizer"), "pre_tokenizer");
        if (!root.path("normalizer").isNull() && !root.path("normalizer").isMissingNode()) {
            throw new IOException(file + ": normalizer " + root.path("normalizer").path("type").asText()
                    + " is not supported (GPT-2-style tokenizers have none)");
        }
        for (String key : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            JsonNode n = model.path(key);
            if (!n.isMissingNode() && !n.isNull() && !n.asText().isEmpty()) {
                throw new IOException(file + ": model." + key + " is not supported by byte-level BPE");
            }
        }
        if (model.path("dropout").isNumber() && model.path("dropout").asDouble() > 0) {
            throw new IOException(file + ": model.dropout (BPE dropout) is not supported");
        }
        JsonNode vocabNode = model.path("vocab");
        if (!vocabNode.isObject()) {
            throw new IOException(file + ": model.vocab must be an object mapping token to id");
        }
        Map<String, Integer> vocab = new LinkedHashMap<>(vocabNode.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber() || e.getValue().asInt() < 0) {
                throw new IOException(file + ": model.vocab[\"" + e.getKey()
                        + "\"] must be a non-negative integer id, got " + e.getValue());
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        JsonNode mergesNode = model.path("merges");
        if (!mergesNode.isArray()) {
            throw new IOException(file + ": model.merges must be an array");
        }
        List<String[]> merges = new ArrayList<>(mergesNode.size());
        for (int i = 0; i < mergesNode.size(); i++) {
            JsonNode m = mergesNode.get(i);
            String[] pair = null;
            if (m.isTextual()) { // "left right" (tokenizers < 0.20)
                String[] parts = m.asText().split(" ", -1);
                pair = parts.length == 2 && !parts[0].isEmpty() && !parts[1].isEmpty() ? parts : null;
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                pair = new String[] {m.get(0).asText(), m.get(1).asText()}; // ["left", "right"] (newer)
            }
            if (pair == null) {
                throw new IOException(file + ": model.merges[" + i + "] must be \"left right\" or [\"left\", "
                        + "\"right\"], got " + m);
            }
            merges.add(pair);
        }
        BpeModel bpe;
        try {
            bpe = new BpeModel(vocab, merges, model.path("ignore_merges").asBoolean(false));
        } catch (BpeModel.MergeException e) {
            throw new IOException(file + ": model.merges[" + e.rank + "]: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": model.vocab: " + e.getMessage(), e);
        }
        List<BpeTokenizer.AddedToken> added = new ArrayList<>();
        JsonNode addedNode = root.path("added_tokens");
        for (int i = 0; i < addedNode.size(); i++) {
            JsonNode t = addedNode.get(i);
            if (!t.path("content").isTextual() || !t.path("id").canConvertToInt()) {
                throw new IOException(file + ": added_tokens[" + i + "] needs \"id\" and \"content\", got " + t);
            }
            added.add(new BpeTokenizer.AddedToken(t.get("content").asText(), t.get("id").asInt(),
                    t.path("special").asBoolean(false)));
        }
        return build(bpe, added, roles, vocab, file.toString());
    }

    private static void requireByteLevel(Path file, JsonNode node, String where) throws IOException {
        String type = node.path("type").asText("");
        if (type.equals("ByteLevel")) {
            if (node.path("add_prefix_space").asBoolean(false)) {
                throw new IOException(file + ": " + where + ".add_prefix_space=true is not supported");
            }
            if (!node.path("use_regex").asBoolean(true)) {
                throw new IOException(file + ": " + where + ".use_regex=false is not supported");
            }
            return;
        }
        if (type.equals("Sequence") && node.path("pretokenizers").size() == 1) {
            requireByteLevel(file, node.path("pretokenizers").get(0), where + ".pretokenizers[0]");
            return;
        }
        throw new IOException(file + ": " + where + " is \"" + type + "\"; only GPT-2's ByteLevel pre-tokenizer is "
                + "supported");
    }

    /** Role tokens (bos, eos, pad, unk, additional specials) from special_tokens_map.json / tokenizer_config.json. */
    static final class Roles {
        String bos;
        String eos;
        String pad;
        String unk;
        boolean explicit;
        final List<String> additional = new ArrayList<>();
        final List<BpeTokenizer.AddedToken> addedDecoder = new ArrayList<>();
    }

    static Roles readRoles(Path dir) throws IOException {
        Roles roles = new Roles();
        for (String name : new String[] {TOKENIZER_CONFIG, SPECIAL_TOKENS_MAP}) { // the map wins
            Path f = dir.resolve(name);
            if (!Files.isRegularFile(f)) {
                continue;
            }
            JsonNode root = readJson(f);
            roles.bos = roleText(f, root, "bos_token", roles.bos, roles);
            roles.eos = roleText(f, root, "eos_token", roles.eos, roles);
            roles.pad = roleText(f, root, "pad_token", roles.pad, roles);
            roles.unk = roleText(f, root, "unk_token", roles.unk, roles);
            for (JsonNode a : root.path("additional_special_tokens")) {
                String s = tokenText(f, a, "additional_special_tokens");
                if (!roles.additional.contains(s)) {
                    roles.additional.add(s);
                }
            }
            JsonNode decoder = root.path("added_tokens_decoder");
            for (Iterator<Map.Entry<String, JsonNode>> it = decoder.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                try {
                    roles.addedDecoder.add(new BpeTokenizer.AddedToken(e.getValue().path("content").asText(),
                            Integer.parseInt(e.getKey()), e.getValue().path("special").asBoolean(true)));
                } catch (NumberFormatException ex) {
                    throw new IOException(f + ": added_tokens_decoder key \"" + e.getKey() + "\" is not an id");
                }
            }
        }
        return roles;
    }

    private static String roleText(Path f, JsonNode root, String key, String current, Roles roles)
            throws IOException {
        JsonNode n = root.get(key);
        if (n == null) {
            return current;
        }
        roles.explicit |= key.equals("bos_token") || key.equals("eos_token");
        return n.isNull() ? null : tokenText(f, n, key);
    }

    private static String tokenText(Path f, JsonNode n, String key) throws IOException {
        if (n.isTextual()) {
            return n.asText();
        }
        if (n.isObject() && n.path("content").isTextual()) {
            return n.get("content").asText();
        }
        throw new IOException(f + ": " + key + " must be a string or an object with \"content\", got " + n);
    }

    private static JsonNode readJson(Path file) throws IOException {
        // strict: a vocabulary key given twice is an error, as in vocab.json, not "the last one wins"
        JsonNode root = StrictJson.readFile(file);
        if (!root.isObject()) {
            throw new IOException(file + ": expected a JSON object");
        }
        return root;
    }

    // ------------------------------------------------------------------------------------------------ save

    static void save(BpeTokenizer tokenizer, Path dir) throws IOException {
        BpeModel model = tokenizer.model();
        ObjectNode vocab = JSON.createObjectNode();
        for (int id = 0; id < model.size(); id++) {
            String s = model.tokenString(id);
            if (s != null) {
                vocab.put(s, id);
            }
        }
        StringBuilder merges = new StringBuilder(model.mergeCount() * 10).append("#version: 0.2\n");
        ArrayNode mergeArray = JSON.createArrayNode();
        for (int r = 0; r < model.mergeCount(); r++) {
            String left = model.tokenString(model.mergeLeft(r));
            String right = model.tokenString(model.mergeRight(r));
            merges.append(left).append(' ').append(right).append('\n');
            mergeArray.addArray().add(left).add(right);
        }
        AtomicFiles.write(dir.resolve(VOCAB), JSON.writeValueAsBytes(vocab));
        AtomicFiles.write(dir.resolve(MERGES), merges.toString().getBytes(StandardCharsets.UTF_8));

        ObjectNode tj = JSON.createObjectNode();
        tj.put("version", "1.0");
        tj.putNull("truncation");
        tj.putNull("padding");
        ArrayNode added = tj.putArray("added_tokens");
        for (BpeTokenizer.AddedToken t : tokenizer.addedTokens()) {
            added.addObject().put("id", t.id()).put("content", t.content()).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", !t.special())
                    .put("special", t.special());
        }
        tj.putNull("normalizer");
        tj.set("pre_tokenizer", byteLevel(JSON.createObjectNode()));
        tj.set("post_processor", byteLevel(JSON.createObjectNode()));
        tj.set("decoder", byteLevel(JSON.createObjectNode()));
        ObjectNode m = tj.putObject("model");
        m.put("type", "BPE");
        m.putNull("dropout");
        m.putNull("unk_token");
        m.putNull("continuing_subword_prefix");
        m.putNull("end_of_word_suffix");
        m.put("fuse_unk", false);
        m.put("byte_fallback", false);
        m.put("ignore_merges", model.ignoreMerges());
        m.set("vocab", vocab);
        m.set("merges", mergeArray);
        AtomicFiles.write(dir.resolve(TOKENIZER_JSON), JSON.writeValueAsBytes(tj));

        ObjectNode map = JSON.createObjectNode();
        ObjectNode config = JSON.createObjectNode();
        config.put("tokenizer_class", "GPT2Tokenizer");
        config.put("add_prefix_space", false);
        putRole(tokenizer, map, config, "bos_token", tokenizer.bosId());
        putRole(tokenizer, map, config, "eos_token", tokenizer.eosId());
        putRole(tokenizer, map, config, "unk_token", tokenizer.eosId());
        int pad = tokenizer.padId().orElse(-1);
        if (pad >= 0 && pad != tokenizer.eosId().orElse(-1)) {
            putRole(tokenizer, map, config, "pad_token", tokenizer.padId());
        }
        ArrayNode extra = JSON.createArrayNode();
        for (String s : tokenizer.specialTokens().keySet()) {
            int id = tokenizer.specialTokens().get(s);
            if (id != tokenizer.bosId().orElse(-1) && id != tokenizer.eosId().orElse(-1) && id != pad) {
                extra.add(s);
            }
        }
        if (!extra.isEmpty()) {
            map.set("additional_special_tokens", extra);
            config.set("additional_special_tokens", extra.deepCopy());
        }
        AtomicFiles.write(dir.resolve(SPECIAL_TOKENS_MAP),
                JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(map));
        AtomicFiles.write(dir.resolve(TOKENIZER_CONFIG),
                JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(config));
    }

    private static void putRole(BpeTokenizer t, ObjectNode map, ObjectNode config, String key,
                                java.util.OptionalInt id) {
        if (id.isPresent()) {
            map.put(key, t.tokenString(id.getAsInt()));
            config.put(key, t.tokenString(id.getAsInt()));
        }
    }

    private static ObjectNode byteLevel(ObjectNode n) {
        return n.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                .put("use_regex", true);
    }
}
