package dev.attune.prompting.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads task files: JSON Lines, one item per line, blank lines skipped. Every problem is a
 * {@link TaskFileException} naming the file, the line and the field.
 * <ul>
 *   <li>{@link TaskType#MC}: {@code "choices"} (at least two strings) and {@code "gold"} (an index into them);</li>
 *   <li>{@link TaskType#CLS}: {@code "label"} (a string or number);</li>
 *   <li>{@link TaskType#GENERATE}: {@code "answer"} (a string) or {@code "answers"} (a non-empty list), not
 *       both;</li>
 *   <li>{@link TaskType#LM}: {@code "text"} (a non-empty string).</li>
 * </ul>
 * The text the template renders ({@code "context"}, {@code "text"}, {@code "prompt"} for the default templates, or
 * whatever a custom template names) comes from the other fields, which must be strings or numbers.
 */
public final class TaskFiles {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TaskFiles() {
    }

    public static List<TaskItem> read(Path file, TaskType type) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new java.nio.file.NoSuchFileException(file.toString(), null, "task file not found");
        }
        List<TaskItem> items = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String text;
            int line = 0;
            while ((text = in.readLine()) != null) {
                line++;
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(text);
                } catch (JsonProcessingException e) {
                    throw new TaskFileException(file, line, null, "not valid JSON: " + e.getOriginalMessage());
                }
                if (node == null || !node.isObject()) {
                    throw new TaskFileException(file, line, null, "expected a JSON object");
                }
                items.add(item(file, line, node, type));
            }
        }
        if (items.isEmpty()) {
            throw new IOException(file + ": the task file has no items");
        }
        return items;
    }

    private static TaskItem item(Path file, int line, JsonNode node, TaskType type) throws TaskFileException {
        Set<String> structural = switch (type) {
            case MC -> Set.of("choices", "gold");
            case CLS -> Set.of("label");
            case GENERATE -> Set.of("answer", "answers");
            case LM -> Set.of();
        };
        Map<String, String> fields = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (structural.contains(e.getKey())) {
                continue;
            }
            JsonNode v = e.getValue();
            if (v.isTextual() || v.isNumber() || v.isBoolean()) {
                fields.put(e.getKey(), v.asText());
            } else if (!v.isNull()) {
                throw new TaskFileException(file, line, e.getKey(), "must be a string or number, got "
                        + kind(v));
            }
        }
        List<String> choices = List.of();
        int gold = -1;
        String label = null;
        List<String> answers = List.of();
        switch (type) {
            case MC -> {
                choices = strings(file, line, node, "choices");
                if (choices.size() < 2) {
                    throw new TaskFileException(file, line, "choices", "needs at least two choices, got "
                            + choices.size());
                }
                JsonNode g = node.get("gold");
                if (g == null) {
                    throw new TaskFileException(file, line, "gold", "missing (the index of the right choice)");
                }
                if (!g.isIntegralNumber()) {
                    throw new TaskFileException(file, line, "gold", "must be an integer index, got " + kind(g));
                }
                gold = g.asInt();
                if (gold < 0 || gold >= choices.size()) {
                    throw new TaskFileException(file, line, "gold", "index " + gold + " is outside the "
                            + choices.size() + " choices");
                }
            }
            case CLS -> {
                JsonNode l = node.get("label");
                if (l == null || l.isNull()) {
                    throw new TaskFileException(file, line, "label", "missing");
                }
                if (!(l.isTextual() || l.isNumber() || l.isBoolean())) {
                    throw new TaskFileException(file, line, "label", "must be a string or number, got " + kind(l));
                }
                label = l.asText();
            }
            case GENERATE -> {
                boolean one = node.has("answer");
                boolean many = node.has("answers");
                if (one == many) {
                    throw new TaskFileException(file, line, one ? "answers" : "answer",
                            one ? "give \"answer\" or \"answers\", not both" : "missing (\"answer\" or \"answers\")");
                }
                if (one) {
                    JsonNode a = node.get("answer");
                    if (!a.isTextual()) {
                        throw new TaskFileException(file, line, "answer", "must be a string, got " + kind(a));
                    }
                    answers = List.of(a.asText());
                } else {
                    answers = strings(file, line, node, "answers");
                    if (answers.isEmpty()) {
                        throw new TaskFileException(file, line, "answers", "needs at least one answer");
                    }
                }
            }
            case LM -> {
                String t = fields.get("text");
                if (t == null || t.isEmpty()) {
                    throw new TaskFileException(file, line, "text", t == null ? "missing" : "must not be empty");
                }
            }
        }
        return new TaskItem(line, fields, choices, gold, label, answers);
    }

    private static List<String> strings(Path file, int line, JsonNode node, String field) throws TaskFileException {
        JsonNode a = node.get(field);
        if (a == null) {
            throw new TaskFileException(file, line, field, "missing");
        }
        if (!a.isArray()) {
            throw new TaskFileException(file, line, field, "must be a list of strings, got " + kind(a));
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).isTextual()) {
                throw new TaskFileException(file, line, field, "element " + i + " must be a string, got "
                        + kind(a.get(i)));
            }
            out.add(a.get(i).asText());
        }
        return out;
    }

    private static String kind(JsonNode n) {
        return n.getNodeType().toString().toLowerCase(Locale.ROOT);
    }
}
