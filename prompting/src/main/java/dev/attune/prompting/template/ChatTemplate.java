package dev.attune.prompting.template;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Renders a multi-turn dialogue (system / user / assistant messages) as one prompt string for a causal language
 * model, with configurable markers around each role's turns.
 *
 * <p>A message renders as {@code prefix(role) + content + suffix(role)}; rendered messages are joined with the
 * {@linkplain Builder#separator(String) separator}. With {@code addGenerationPrompt} the text ends with the
 * separator and the assistant prefix, so the model's continuation is the assistant's reply.
 *
 * <p>{@link #simple()} is the plain default for models without a chat format of their own (GPT-2):
 * <pre>
 * System: You are terse.
 * User: Hi
 * Assistant: Hello.
 * User: Bye
 * Assistant: </pre>
 * A ChatML-style template is {@code builder().userPrefix("<|im_start|>user\n").userSuffix("<|im_end|>")...}.
 *
 * <p>Immutable and thread-safe. Files: {@link #load(Path)} / {@link #save(Path)} read and write a small JSON object
 * (YAML when the name ends in {@code .yaml} or {@code .yml}) with the keys {@code system_prefix},
 * {@code system_suffix}, {@code user_prefix}, {@code user_suffix}, {@code assistant_prefix},
 * {@code assistant_suffix}, {@code separator} and optionally {@code stop_strings}; absent keys take the
 * {@link #builder()} defaults (those of {@link #simple()}).
 */
public final class ChatTemplate {

    private static final Set<String> FILE_KEYS = Set.of("system_prefix", "system_suffix", "user_prefix",
            "user_suffix", "assistant_prefix", "assistant_suffix", "separator", "stop_strings");

    private final String systemPrefix;
    private final String systemSuffix;
    private final String userPrefix;
    private final String userSuffix;
    private final String assistantPrefix;
    private final String assistantSuffix;
    private final String separator;
    private final List<String> explicitStopStrings; // null: derived from the markers
    private final List<String> stopStrings;

    private ChatTemplate(Builder b) {
        this.systemPrefix = b.systemPrefix;
        this.systemSuffix = b.systemSuffix;
        this.userPrefix = b.userPrefix;
        this.userSuffix = b.userSuffix;
        this.assistantPrefix = b.assistantPrefix;
        this.assistantSuffix = b.assistantSuffix;
        this.separator = b.separator;
        this.explicitStopStrings = b.stopStrings == null ? null : List.copyOf(b.stopStrings);
        this.stopStrings = explicitStopStrings != null ? explicitStopStrings : derivedStopStrings();
    }

    /** A builder whose defaults are those of {@link #simple()}. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The plain default: turns start with {@code "System: "}, {@code "User: "} or {@code "Assistant: "}, have no
     * suffix and are separated by one newline; generation stops at {@code "\nUser:"} or {@code "\nSystem:"}.
     */
    public static ChatTemplate simple() {
        return builder().build();
    }

    /**
     * The dialogue as one prompt string.
     *
     * @param messages            the turns, in order (may be empty)
     * @param addGenerationPrompt end with the assistant prefix (after a separator), ready for the model to write
     *                            the assistant's reply
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Objects.requireNonNull(messages, "messages");
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            if (m == null) {
                throw new NullPointerException("message " + i + " is null");
            }
            if (i > 0) {
                out.append(separator);
            }
            switch (m.role()) {
                case "system" -> out.append(systemPrefix).append(m.content()).append(systemSuffix);
                case "user" -> out.append(userPrefix).append(m.content()).append(userSuffix);
                default -> out.append(assistantPrefix).append(m.content()).append(assistantSuffix);
            }
        }
        if (addGenerationPrompt) {
            if (!messages.isEmpty()) {
                out.append(separator);
            }
            out.append(assistantPrefix);
        }
        return out.toString();
    }

    /**
     * Strings that end an assistant turn, for {@code GenerationConfig.stopStrings}: those given to the builder, or
     * else the assistant suffix (when not blank) and the start of a following user or system turn (separator plus
     * prefix, trailing whitespace dropped).
     */
    public List<String> stopStrings() {
        return stopStrings;
    }

    private List<String> derivedStopStrings() {
        Set<String> stops = new LinkedHashSet<>();
        if (!assistantSuffix.isBlank()) {
            stops.add(assistantSuffix);
        }
        for (String prefix : List.of(userPrefix, systemPrefix)) {
            String next = (separator + prefix).stripTrailing();
            if (!prefix.isBlank() && !next.isEmpty()) {
                stops.add(next);
            }
        }
        return List.copyOf(stops);
    }

    public String systemPrefix() { return systemPrefix; }
    public String systemSuffix() { return systemSuffix; }
    public String userPrefix() { return userPrefix; }
    public String userSuffix() { return userSuffix; }
    public String assistantPrefix() { return assistantPrefix; }
    public String assistantSuffix() { return assistantSuffix; }
    public String separator() { return separator; }

    /** A builder holding this template's settings. */
    public Builder toBuilder() {
        Builder b = new Builder().systemPrefix(systemPrefix).systemSuffix(systemSuffix)
                .userPrefix(userPrefix).userSuffix(userSuffix)
                .assistantPrefix(assistantPrefix).assistantSuffix(assistantSuffix).separator(separator);
        b.stopStrings = explicitStopStrings;
        return b;
    }

    /** Reads a template file (JSON, or YAML by extension); the error names the file and the field at fault. */
    public static ChatTemplate load(Path file) throws IOException {
        ObjectNode root = TemplateFiles.read(file, "chat template", FILE_KEYS);
        Builder d = new Builder();
        Builder b = new Builder()
                .systemPrefix(TemplateFiles.string(root, file, "system_prefix", d.systemPrefix))
                .systemSuffix(TemplateFiles.string(root, file, "system_suffix", d.systemSuffix))
                .userPrefix(TemplateFiles.string(root, file, "user_prefix", d.userPrefix))
                .userSuffix(TemplateFiles.string(root, file, "user_suffix", d.userSuffix))
                .assistantPrefix(TemplateFiles.string(root, file, "assistant_prefix", d.assistantPrefix))
                .assistantSuffix(TemplateFiles.string(root, file, "assistant_suffix", d.assistantSuffix))
                .separator(TemplateFiles.string(root, file, "separator", d.separator));
        b.stopStrings = TemplateFiles.strings(root, file, "stop_strings");
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Writes this template atomically (JSON, or YAML by extension); {@link #load(Path)} reads it back equal. */
    public void save(Path file) throws IOException {
        ObjectNode root = TemplateFiles.newObject();
        root.put("system_prefix", systemPrefix);
        root.put("system_suffix", systemSuffix);
        root.put("user_prefix", userPrefix);
        root.put("user_suffix", userSuffix);
        root.put("assistant_prefix", assistantPrefix);
        root.put("assistant_suffix", assistantSuffix);
        root.put("separator", separator);
        if (explicitStopStrings != null) {
            ArrayNode stops = root.putArray("stop_strings");
            explicitStopStrings.forEach(stops::add);
        }
        TemplateFiles.write(file, root);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChatTemplate t && systemPrefix.equals(t.systemPrefix)
                && systemSuffix.equals(t.systemSuffix) && userPrefix.equals(t.userPrefix)
                && userSuffix.equals(t.userSuffix) && assistantPrefix.equals(t.assistantPrefix)
                && assistantSuffix.equals(t.assistantSuffix) && separator.equals(t.separator)
                && Objects.equals(explicitStopStrings, t.explicitStopStrings);
    }

    @Override
    public int hashCode() {
        return Objects.hash(systemPrefix, systemSuffix, userPrefix, userSuffix, assistantPrefix, assistantSuffix,
                separator, explicitStopStrings);
    }

    @Override
    public String toString() {
        return "ChatTemplate[user=" + quote(userPrefix) + ", assistant=" + quote(assistantPrefix) + ", separator="
                + quote(separator) + ", stops=" + stopStrings.stream().map(ChatTemplate::quote).toList() + "]";
    }

    private static String quote(String s) {
        return "\"" + s.replace("\n", "\\n") + "\"";
    }

    /** Markers per role; defaults are those of {@link #simple()}. */
    public static final class Builder {
        private String systemPrefix = "System: ";
        private String systemSuffix = "";
        private String userPrefix = "User: ";
        private String userSuffix = "";
        private String assistantPrefix = "Assistant: ";
        private String assistantSuffix = "";
        private String separator = "\n";
        private List<String> stopStrings; // null: derived

        private Builder() {
        }

        public Builder systemPrefix(String s) { this.systemPrefix = s; return this; }
        public Builder systemSuffix(String s) { this.systemSuffix = s; return this; }
        public Builder userPrefix(String s) { this.userPrefix = s; return this; }
        public Builder userSuffix(String s) { this.userSuffix = s; return this; }
        public Builder assistantPrefix(String s) { this.assistantPrefix = s; return this; }
        public Builder assistantSuffix(String s) { this.assistantSuffix = s; return this; }
        /** Text between consecutive turns (default one newline). */
        public Builder separator(String s) { this.separator = s; return this; }

        /** Overrides the derived stop strings (see {@link ChatTemplate#stopStrings()}); at least one, none empty. */
        public Builder stopStrings(String... stops) {
            this.stopStrings = stops == null ? null : List.of(stops);
            return this;
        }

        /**
         * Checks every marker and names each problem: none may be null; the user and assistant prefixes must not
         * be empty and must differ (or the turns could not be told apart); there must be at least one stop string
         * and none may be empty.
         */
        public ChatTemplate build() {
            List<String> problems = new ArrayList<>();
            String[][] fields = {{"systemPrefix", systemPrefix}, {"systemSuffix", systemSuffix},
                    {"userPrefix", userPrefix}, {"userSuffix", userSuffix}, {"assistantPrefix", assistantPrefix},
                    {"assistantSuffix", assistantSuffix}, {"separator", separator}};
            boolean nulls = false;
            for (String[] f : fields) {
                if (f[1] == null) {
                    problems.add(f[0] + " must not be null (use \"\" for none)");
                    nulls = true;
                }
            }
            if (!nulls) {
                if (userPrefix.isEmpty()) {
                    problems.add("userPrefix must not be empty");
                }
                if (assistantPrefix.isEmpty()) {
                    problems.add("assistantPrefix must not be empty");
                }
                if (!userPrefix.isEmpty() && userPrefix.equals(assistantPrefix)) {
                    problems.add("userPrefix and assistantPrefix must differ, both are \"" + userPrefix + "\"");
                }
            }
            if (stopStrings != null) {
                if (stopStrings.isEmpty()) {
                    problems.add("stopStrings, when given, needs at least one string");
                }
                for (int i = 0; i < stopStrings.size(); i++) {
                    if (stopStrings.get(i) == null || stopStrings.get(i).isEmpty()) {
                        problems.add("stopStrings[" + i + "] must not be null or empty");
                    }
                }
            }
            if (problems.isEmpty()) {
                ChatTemplate t = new ChatTemplate(this);
                if (t.stopStrings().isEmpty()) {
                    throw new IllegalArgumentException("chat template: no stop string can be derived from these"
                            + " markers; give stopStrings(...)");
                }
                return t;
            }
            throw new IllegalArgumentException("chat template: " + String.join("; ", problems));
        }
    }
}
