package dev.attune.examples.cli;

import dev.attune.core.io.StrictJson;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code attune tokenize [--model DIR] (--text STRING | --jsonl FILE)}: prints token ids as JSON arrays, one per
 * input text.
 */
@Command(name = "tokenize",
        mixinStandardHelpOptions = true,
        description = {"Print the token ids of text as a JSON array (GPT-2's tokenizer unless --model is given).",
                "With --jsonl, reads one JSON string a line and prints one JSON array a line."})
public final class TokenizeCommand implements Callable<Integer> {


    @Spec
    private CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR",
            description = "model directory with tokenizer.json or vocab.json + merges.txt (default: GPT-2)")
    private Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    private Input input;

    static final class Input {
        @Option(names = "--text", paramLabel = "STRING", description = "the text to encode")
        String text;

        @Option(names = "--jsonl", paramLabel = "FILE", description = "a file with one JSON string a line")
        Path jsonl;
    }

    @Option(names = "--allow-special",
            description = "recognise special tokens such as <|endoftext|> in the text (default: encode them as text)")
    private boolean allowSpecial;

    @Override
    public Integer call() throws IOException {
        Tokenizer tokenizer = ModelDirectory.tokenizer(model);
        Set<String> allowed = allowSpecial ? tokenizer.specialTokens().keySet() : Set.of();
        PrintWriter out = spec.commandLine().getOut();
        if (input.text != null) {
            out.println(jsonArray(tokenizer.encode(input.text, allowed)));
            out.flush();
            return 0;
        }
        // output line N answers input line N: a blank line is an error rather than skipped
        StrictJson.readLines(input.jsonl, false, (lineNo, node) -> {
            String where = input.jsonl + ", line " + lineNo;
            if (!node.isTextual()) {
                throw new IllegalArgumentException(where + ": expected a JSON string, got " + node);
            }
            try {
                out.println(jsonArray(tokenizer.encode(node.asText(), allowed)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
            }
        });
        out.flush();
        return 0;
    }

    static String jsonArray(int[] ids) {
        StringBuilder sb = new StringBuilder(ids.length * 6 + 2).append('[');
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(ids[i]);
        }
        return sb.append(']').toString();
    }
}
