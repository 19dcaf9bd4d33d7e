package dev.attune.prompting.eval;

import java.util.Locale;

/** The kinds of task file, by their command-line names. */
public enum TaskType {
    /** {@code {"context", "choices": [...], "gold": i}}: acc, acc_norm, acc_bytes. */
    MC("mc"),
    /** {@code {"text", "label"}} with a template and verbalizer: acc. */
    CLS("cls"),
    /** {@code {"prompt", "answer"}} or {@code {"prompt", "answers": [...]}}: exact_match, f1, ROUGE. */
    GENERATE("generate"),
    /** {@code {"text"}}: perplexity and bits per byte with a sliding window. */
    LM("lm");

    private final String cliName;

    TaskType(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    public static TaskType fromName(String name) {
        for (TaskType t : values()) {
            if (t.cliName.equals(name.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown task type \"" + name + "\"; expected mc, cls, generate or lm");
    }
}
