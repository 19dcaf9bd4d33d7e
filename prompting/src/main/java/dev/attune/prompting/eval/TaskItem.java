package dev.attune.prompting.eval;

import java.util.List;
import java.util.Map;

/**
 * One line of a task file.
 *
 * @param line    1-based line number in the file (for messages and reports)
 * @param fields  the item's text fields (strings and numbers as text), which templates may use: {@code context},
 *                {@code text}, {@code prompt} and any extra field the file has
 * @param choices multiple choice: the choices; otherwise empty
 * @param gold    multiple choice: index of the right choice; otherwise -1
 * @param label   classification: the label; otherwise null
 * @param answers generation: the acceptable answers (at least one); otherwise empty
 */
public record TaskItem(int line, Map<String, String> fields, List<String> choices, int gold, String label,
                       List<String> answers) {

    public TaskItem {
        fields = Map.copyOf(fields);
        choices = List.copyOf(choices);
        answers = List.copyOf(answers);
    }

    /** The item's label for balanced few-shot selection: the label, or the gold choice's index. */
    public String balanceLabel() {
        return label != null ? label : gold >= 0 ? Integer.toString(gold) : null;
    }
}
