package dev.attune.prompting.template;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.attune.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reading and writing the small template files: JSON, or YAML when the name ends in {@code .yaml} / {@code .yml}.
 * Every problem names the file and the field.
 */
final class TemplateFiles {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

    private TemplateFiles() {
    }

    static ObjectMapper mapperFor(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".yaml") || name.endsWith(".yml") ? YAML : JSON;
    }

    static ObjectNode newObject() {
        return JSON.createObjectNode();
    }

    /** Reads the file as one object whose fields are all in {@code known}. */
    static ObjectNode read(Path file, String what, Set<String> known) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, what + " file not found");
        }
        JsonNode root;
        try {
            root = mapperFor(file).readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not a valid " + what + " file: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": a " + what + " file must hold one object, got "
                    + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase(Locale.ROOT)));
        }
        List<String> unknown = new ArrayList<>();
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) {
                unknown.add(f);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IOException(file + ": unknown field(s) " + unknown + " in " + what + " file; known: "
                    + known.stream().sorted().toList());
        }
        return (ObjectNode) root;
    }

    /** A string field; {@code fallback} when absent; an error naming the file and field when not a string. */
    static String string(ObjectNode root, Path file, String field, String fallback) throws IOException {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw new IOException(file + ": field \"" + field + "\" must be a string, got "
                    + n.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        return n.asText();
    }

    /** A list-of-strings field; null when absent. */
    static List<String> strings(ObjectNode root, Path file, String field) throws IOException {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isArray()) {
            throw new IOException(file + ": field \"" + field + "\" must be a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            if (!n.get(i).isTextual()) {
                throw new IOException(file + ": field \"" + field + "\"[" + i + "] must be a string");
            }
            out.add(n.get(i).asText());
        }
        return out;
    }

    static void write(Path file, ObjectNode root) throws IOException {
        byte[] bytes = mapperFor(file).writeValueAsBytes(root);
        AtomicFiles.write(file, bytes);
    }
}
