package dev.attune.prompting.template;

import java.util.List;
import java.util.Objects;

/**
 * How an instruction, k solved demonstrations and the query become one prompt, with lm-evaluation-harness's
 * delimiters: each demonstration is {@code input + targetDelimiter + target}, demonstrations are joined by the
 * {@code fewshotDelimiter}, and the query follows the last one after another {@code fewshotDelimiter}:
 * <pre>
 * instruction \n\n
 * input1 " " target1 \n\n
 * input2 " " target2 \n\n
 * query</pre>
 * The answer the model is scored on (or generates) is {@code targetDelimiter + answer} after the query:
 * see {@link #continuation(String)}.
 *
 * @param instruction      text before everything else, followed by the few-shot delimiter; "" for none
 *                         (lm-eval's {@code description})
 * @param targetDelimiter  between an input and its target (lm-eval default {@code " "})
 * @param fewshotDelimiter between demonstrations and before the query (lm-eval default {@code "\n\n"})
 */
public record FewShotFormat(String instruction, String targetDelimiter, String fewshotDelimiter) {

    /** lm-evaluation-harness's defaults: no instruction, target delimiter " ", few-shot delimiter "\n\n". */
    public static final FewShotFormat LM_EVAL = new FewShotFormat("", " ", "\n\n");

    /** One solved example: the rendered input and its target text. */
    public record Demo(String input, String target) {
        public Demo {
            Objects.requireNonNull(input, "demo input");
            Objects.requireNonNull(target, "demo target");
        }
    }

    public FewShotFormat {
        Objects.requireNonNull(instruction, "instruction must not be null (use \"\" for none)");
        Objects.requireNonNull(targetDelimiter, "targetDelimiter must not be null");
        Objects.requireNonNull(fewshotDelimiter, "fewshotDelimiter must not be null");
    }

    public FewShotFormat withInstruction(String text) {
        return new FewShotFormat(text, targetDelimiter, fewshotDelimiter);
    }

    public FewShotFormat withTargetDelimiter(String delimiter) {
        return new FewShotFormat(instruction, delimiter, fewshotDelimiter);
    }

    public FewShotFormat withFewshotDelimiter(String delimiter) {
        return new FewShotFormat(instruction, targetDelimiter, delimiter);
    }

    /** The context the model sees before answering {@code query} (an already rendered input). */
    public String context(List<Demo> demos, String query) {
        StringBuilder out = new StringBuilder();
        if (!instruction.isEmpty()) {
            out.append(instruction).append(fewshotDelimiter);
        }
        for (Demo d : demos) {
            out.append(d.input()).append(targetDelimiter).append(d.target()).append(fewshotDelimiter);
        }
        return out.append(query).toString();
    }

    /** What follows the context when the answer is {@code target}: {@code targetDelimiter + target}. */
    public String continuation(String target) {
        return targetDelimiter + target;
    }
}
