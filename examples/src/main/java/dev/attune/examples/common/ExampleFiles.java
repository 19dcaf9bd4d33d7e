package dev.attune.examples.common;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the examples find their inputs, and how they read them. Paths are relative to the repository root, where
 * {@code ./attune} is run; every example takes {@code --model} and {@code --data} to point elsewhere (for instance at
 * a Hugging Face GPT-2 directory you already have).
 */
public final class ExampleFiles {

    /** The small base model every example starts from (see examples/README.md for how it was made). */
    public static final Path BASE_MODEL = Path.of("examples", "base-model");

    /** The examples' data sets, one folder each, with train.jsonl and test.jsonl. */
    public static final Path DATA = Path.of("examples", "data");

    private static final ObjectMapper JSON = new ObjectMapper();

    private ExampleFiles() {
    }

    /**
     * Reads JSON Lines: one object a line, blank lines skipped.
     *
     * @throws IOException naming the file and line of anything that is not a JSON object
     */
    public static List<JsonNode> readJsonl(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "data file not found (run from the repository root, "
                    + "or pass --data)");
        }
        List<JsonNode> items = new ArrayList<>();
        int line = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            while ((text = in.readLine()) != null) {
                line++;
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(text);
                } catch (JsonProcessingException e) {
                    throw new IOException(file + ", line " + line + ": not valid JSON: " + e.getOriginalMessage());
                }
                if (node == null || !node.isObject()) {
                    throw new IOException(file + ", line " + line + ": expected a JSON object");
                }
                items.add(node);
            }
        }
        return items;
    }

    /** The text field {@code key} of {@code item}, or an error naming the file's item. */
    public static String text(JsonNode item, String key, Path file, int index) throws IOException {
        JsonNode v = item.get(key);
        if (v == null || !v.isTextual()) {
            throw new IOException(file + ", item " + (index + 1) + ": expected a string field \"" + key + "\"");
        }
        return v.asText();
    }

    /** The first {@code limit} items ({@code limit <= 0}: all). */
    public static <T> List<T> head(List<T> items, int limit) {
        return limit <= 0 || limit >= items.size() ? items : List.copyOf(items.subList(0, limit));
    }
}
