package dev.attune.prompting.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.prompting.verbalizer.Verbalizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Everything that turns a task's items into prompts, as one file: the item template, the few-shot format and, for
 * classification, the verbalizer. The file (JSON, or YAML by extension) holds
 * <pre>
 * {"template": "Review: {text}\nSentiment:",       required
 *  "defaults": {"name": "value"},                  optional
 *  "instruction": "Classify the reviews.",         optional, default ""
 *  "target_delimiter": " ",                        optional, lm-eval's default
 *  "fewshot_delimiter": "\n\n",                    optional, lm-eval's default
 *  "verbalizer": {"pos": ["great", "good"], "neg": "bad"}}   optional; a label maps to a word or a list</pre>
 *
 * @param template   renders one item
 * @param format     instruction and delimiters
 * @param verbalizer label words for classification, or null
 */
public record TaskPrompt(PromptTemplate template, FewShotFormat format, Verbalizer verbalizer) {

    private static final Set<String> FILE_KEYS = Set.of("template", "defaults", "instruction", "target_delimiter",
            "fewshot_delimiter", "verbalizer");

    public TaskPrompt {
        Objects.requireNonNull(template, "template");
        Objects.requireNonNull(format, "format");
    }

    /** A template with lm-eval's delimiters and no verbalizer. */
    public static TaskPrompt of(PromptTemplate template) {
        return new TaskPrompt(template, FewShotFormat.LM_EVAL, null);
    }

    public TaskPrompt withVerbalizer(Verbalizer v) {
        return new TaskPrompt(template, format, v);
    }

    /** Reads a task prompt file; errors name the file and the field. */
    public static TaskPrompt load(Path file) throws IOException {
        ObjectNode root = TemplateFiles.read(file, "task prompt", FILE_KEYS);
        ObjectNode templatePart = TemplateFiles.newObject();
        if (root.has("template")) {
            templatePart.set("template", root.get("template"));
        }
        if (root.has("defaults")) {
            templatePart.set("defaults", root.get("defaults"));
        }
        PromptTemplate template = PromptTemplate.fromNode(templatePart, file);
        FewShotFormat f = FewShotFormat.LM_EVAL;
        FewShotFormat format = new FewShotFormat(
                TemplateFiles.string(root, file, "instruction", f.instruction()),
                TemplateFiles.string(root, file, "target_delimiter", f.targetDelimiter()),
                TemplateFiles.string(root, file, "fewshot_delimiter", f.fewshotDelimiter()));
        Verbalizer verbalizer = null;
        JsonNode v = root.get("verbalizer");
        if (v != null && !v.isNull()) {
            if (!v.isObject()) {
                throw new IOException(file + ": field \"verbalizer\" must be an object of label: word(s)");
            }
            Map<String, List<String>> words = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                List<String> w = new ArrayList<>();
                if (e.getValue().isTextual()) {
                    w.add(e.getValue().asText());
                } else if (e.getValue().isArray()) {
                    for (int i = 0; i < e.getValue().size(); i++) {
                        JsonNode word = e.getValue().get(i);
                        if (!word.isTextual()) {
                            throw new IOException(file + ": field \"verbalizer\".\"" + e.getKey() + "\"[" + i
                                    + "] must be a string");
                        }
                        w.add(word.asText());
                    }
                } else {
                    throw new IOException(file + ": field \"verbalizer\".\"" + e.getKey()
                            + "\" must be a word or a list of words");
                }
                words.put(e.getKey(), w);
            }
            try {
                verbalizer = Verbalizer.of(words);
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": field \"verbalizer\": " + e.getMessage(), e);
            }
        }
        return new TaskPrompt(template, format, verbalizer);
    }

    /** Writes the file atomically; {@link #load(Path)} reads it back equal. */
    public void save(Path file) throws IOException {
        ObjectNode root = template.toNode();
        root.put("instruction", format.instruction());
        root.put("target_delimiter", format.targetDelimiter());
        root.put("fewshot_delimiter", format.fewshotDelimiter());
        if (verbalizer != null) {
            ObjectNode v = root.putObject("verbalizer");
            verbalizer.asMap().forEach((label, words) -> {
                ArrayNode a = v.putArray(label);
                words.forEach(a::add);
            });
        }
        TemplateFiles.write(file, root);
    }
}
