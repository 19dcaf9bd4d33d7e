package dev.attune.examples.cli;

import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code attune detokenize [--model DIR] --ids 1,2,3}: prints the text the ids stand for. */
@Command(name = "detokenize",
        mixinStandardHelpOptions = true,
        description = "Print the text of token ids (GPT-2's tokenizer unless --model is given), then a newline.")
public final class DetokenizeCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR",
            description = "model directory with tokenizer.json or vocab.json + merges.txt (default: GPT-2)")
    private Path model;

    @Option(names = "--ids", required = true, paramLabel = "IDS",
            description = "comma-separated ids, e.g. 15496,995 (a JSON array such as [15496, 995] also works)")
    private String ids;

    @Option(names = "--skip-special", description = "leave out special tokens such as <|endoftext|>")
    private boolean skipSpecial;

    @Override
    public Integer call() throws IOException {
        Tokenizer tokenizer = ModelDirectory.tokenizer(model);
        PrintWriter out = spec.commandLine().getOut();
        out.println(tokenizer.decode(parseIds(ids), skipSpecial));
        out.flush();
        return 0;
    }

    static int[] parseIds(String text) {
        String body = text.strip();
        if (body.startsWith("[") && body.endsWith("]")) {
            body = body.substring(1, body.length() - 1);
        }
        if (body.isBlank()) {
            return new int[0];
        }
        String[] parts = body.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--ids: \"" + parts[i].strip() + "\" (item " + (i + 1)
                        + ") is not an integer id");
            }
        }
        return out;
    }
}
