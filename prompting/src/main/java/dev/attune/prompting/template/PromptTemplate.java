package dev.attune.prompting.template;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A prompt with named variables: {@code "Question: {question}\nAnswer:"}.
 *
 * <p>Syntax, as Python's {@code str.format}: {@code {name}} is a variable (letters, digits and underscores, not
 * starting with a digit); {@code {{} and {@code }}} are literal braces; any other brace is an error that gives
 * its position. Variables may have defaults, used when {@link #render(Map)} gets no value for them.
 *
 * <p>Rendering is strict: a variable with neither a value nor a default, and a value that the template does not
 * use, are errors naming every such variable (a misspelt key is caught instead of silently dropped).
 *
 * <p>Files: {@link #load(Path)} / {@link #save(Path)} read and write {@code {"template": "...", "defaults":
 * {"name": "value"}}} as JSON, or YAML when the name ends in {@code .yaml} / {@code .yml}.
 */
public final class PromptTemplate {

    private static final Set<String> FILE_KEYS = Set.of("template", "defaults");

    private final String text;
    private final List<Object> parts; // String literal or Variable
    private final Set<String> variables;
    private final Map<String, String> defaults;

    private record Variable(String name) {
    }

    private PromptTemplate(String text, List<Object> parts, Map<String, String> defaults) {
        this.text = text;
        this.parts = List.copyOf(parts);
        Set<String> vars = new LinkedHashSet<>();
        for (Object p : parts) {
            if (p instanceof Variable v) {
                vars.add(v.name());
            }
        }
        this.variables = Collections.unmodifiableSet(vars);
        this.defaults = Collections.unmodifiableMap(new LinkedHashMap<>(defaults));
    }

    /** A template without defaults; throws {@link IllegalArgumentException} on a syntax error. */
    public static PromptTemplate of(String text) {
        return builder(text).build();
    }

    public static Builder builder(String text) {
        return new Builder(text);
    }

    /** The template text as written (braces still escaped). */
    public String text() {
        return text;
    }

    /** The variables in order of first appearance. */
    public Set<String> variables() {
        return variables;
    }

    /** Default values by variable. */
    public Map<String, String> defaults() {
        return defaults;
    }

    /**
     * The problems rendering with values for exactly {@code provided} would have: variables with no value and no
     * default, and provided names the template does not use. Empty when rendering would succeed.
     */
    public List<String> validate(Set<String> provided) {
        List<String> problems = new ArrayList<>();
        Set<String> missing = new TreeSet<>();
        for (String v : variables) {
            if (!provided.contains(v) && !defaults.containsKey(v)) {
                missing.add(v);
            }
        }
        Set<String> unused = new TreeSet<>(provided);
        unused.removeAll(variables);
        if (!missing.isEmpty()) {
            problems.add("missing variable(s) " + missing + " (no value and no default)");
        }
        if (!unused.isEmpty()) {
            problems.add("unused variable(s) " + unused + " (the template has " + variables + ")");
        }
        return problems;
    }

    /**
     * Fills the variables; values are converted with {@link String#valueOf(Object)}.
     *
     * @throws IllegalArgumentException naming every missing and every unused variable
     */
    public String render(Map<String, ?> values) {
        Objects.requireNonNull(values, "values");
        List<String> problems = validate(values.keySet());
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("template \"" + abbreviated() + "\": " + String.join("; ", problems));
        }
        StringBuilder out = new StringBuilder();
        for (Object p : parts) {
            if (p instanceof Variable v) {
                Object value = values.containsKey(v.name()) ? values.get(v.name()) : defaults.get(v.name());
                out.append(value);
            } else {
                out.append((String) p);
            }
        }
        return out.toString();
    }

    /** {@link #render(Map)} with alternating names and values: {@code render("question", q, "answer", a)}. */
    public String render(Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("render needs name, value pairs; got " + namesAndValues.length
                    + " arguments");
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            values.put(String.valueOf(namesAndValues[i]), namesAndValues[i + 1]);
        }
        return render(values);
    }

    /** Reads a template file; errors name the file and the field (and the position of a syntax error). */
    public static PromptTemplate load(Path file) throws IOException {
        ObjectNode root = TemplateFiles.read(file, "prompt template", FILE_KEYS);
        return fromNode(root, file);
    }

    /** Builds a template from the {@code template} and {@code defaults} fields of a file's object. */
    static PromptTemplate fromNode(ObjectNode root, Path file) throws IOException {
        String text = TemplateFiles.string(root, file, "template", null);
        if (text == null) {
            throw new IOException(file + ": missing field \"template\"");
        }
        Builder b = builder(text);
        JsonNode defaults = root.get("defaults");
        if (defaults != null && !defaults.isNull()) {
            if (!defaults.isObject()) {
                throw new IOException(file + ": field \"defaults\" must be an object of name: value");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = defaults.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                    throw new IOException(file + ": field \"defaults\".\"" + e.getKey() + "\" must be a string");
                }
                b.defaultValue(e.getKey(), e.getValue().asText());
            }
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": field \"template\": " + e.getMessage(), e);
        }
    }

    /** Writes the template and its defaults atomically; {@link #load(Path)} reads it back equal. */
    public void save(Path file) throws IOException {
        TemplateFiles.write(file, toNode());
    }

    ObjectNode toNode() {
        ObjectNode root = TemplateFiles.newObject();
        root.put("template", text);
        if (!defaults.isEmpty()) {
            ObjectNode d = root.putObject("defaults");
            defaults.forEach(d::put);
        }
        return root;
    }

    private String abbreviated() {
        String t = text.replace("\n", "\\n");
        return t.length() <= 60 ? t : t.substring(0, 57) + "...";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PromptTemplate t && text.equals(t.text) && defaults.equals(t.defaults);
    }

    @Override
    public int hashCode() {
        return text.hashCode() * 31 + defaults.hashCode();
    }

    @Override
    public String toString() {
        return "PromptTemplate[\"" + abbreviated() + "\", variables=" + variables + "]";
    }

    /** Parses the text and collects defaults; {@link #build()} reports every problem at once. */
    public static final class Builder {
        private final String text;
        private final Map<String, String> defaults = new LinkedHashMap<>();

        private Builder(String text) {
            this.text = text;
        }

        /** The value {@code name} takes when rendering gets none. */
        public Builder defaultValue(String name, String value) {
            defaults.put(name, value);
            return this;
        }

        public PromptTemplate build() {
            if (text == null) {
                throw new IllegalArgumentException("template text must not be null");
            }
            List<String> problems = new ArrayList<>();
            List<Object> parts = parse(text, problems);
            Set<String> declared = new LinkedHashSet<>();
            for (Object p : parts) {
                if (p instanceof Variable v) {
                    declared.add(v.name());
                }
            }
            Set<String> unusedDefaults = new TreeSet<>(defaults.keySet());
            unusedDefaults.removeAll(declared);
            if (problems.isEmpty() && !unusedDefaults.isEmpty()) {
                problems.add("default(s) for unused variable(s) " + unusedDefaults + " (the template has "
                        + declared + ")");
            }
            defaults.forEach((k, v) -> {
                if (v == null) {
                    problems.add("default for " + k + " must not be null");
                }
            });
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(String.join("; ", problems));
            }
            return new PromptTemplate(text, parts, defaults);
        }

        private static List<Object> parse(String text, List<String> problems) {
            List<Object> parts = new ArrayList<>();
            StringBuilder literal = new StringBuilder();
            int i = 0;
            while (i < text.length()) {
                char c = text.charAt(i);
                if (c == '{' && i + 1 < text.length() && text.charAt(i + 1) == '{') {
                    literal.append('{');
                    i += 2;
                } else if (c == '}' && i + 1 < text.length() && text.charAt(i + 1) == '}') {
                    literal.append('}');
                    i += 2;
                } else if (c == '}') {
                    problems.add("unmatched '}' at position " + i + " (write '}}' for a literal brace)");
                    i++;
                } else if (c == '{') {
                    int close = text.indexOf('}', i + 1);
                    int nextOpen = text.indexOf('{', i + 1);
                    if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
                        problems.add("unclosed '{' at position " + i + " (write '{{' for a literal brace)");
                        i++;
                        continue;
                    }
                    String name = text.substring(i + 1, close);
                    if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                        problems.add("bad variable name \"" + name + "\" at position " + i
                                + " (letters, digits, '_'; not starting with a digit)");
                    } else {
                        if (literal.length() > 0) {
                            parts.add(literal.toString());
                            literal.setLength(0);
                        }
                        parts.add(new Variable(name));
                    }
                    i = close + 1;
                } else {
                    literal.append(c);
                    i++;
                }
            }
            if (literal.length() > 0) {
                parts.add(literal.toString());
            }
            return parts;
        }
    }
}
