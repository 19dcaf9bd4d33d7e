package dev.attune.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attune.core.io.StrictJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * Where {@code classify predict} and {@code tag predict} read their inputs (a picocli mixin): {@code --text}
 * (repeatable), then a JSON Lines {@code --data} file, or, with neither, the non-blank lines of standard input.
 */
final class PredictInput {

    /** Reads one input from a JSON Lines record; throws an IOException that names the file and line. */
    @FunctionalInterface
    interface RecordReader<T> {
        T read(Path file, int line, JsonNode record) throws IOException;
    }

    @Option(names = "--text", paramLabel = "TEXT", description = "an input (repeatable); tag splits it into words at whitespace")
    private List<String> texts;

    @Option(names = "--data", paramLabel = "FILE",
            description = {"JSON Lines, an input a line: classify reads its \"text\", tag its \"tokens\" array (other",
                    "fields are ignored); without --text or --data, the lines of stdin"})
    private Path data;

    /**
     * Every input in order: the {@code --text}s and the standard input's lines turned by {@code fromText}, the
     * {@code --data} records by {@code fromRecord}.
     */
    <T> List<T> read(java.util.function.Function<String, T> fromText, RecordReader<T> fromRecord, InputStream stdin)
            throws IOException {
        List<T> out = new ArrayList<>();
        if (texts != null) {
            texts.forEach(t -> out.add(fromText.apply(t)));
        }
        if (data != null) {
            StrictJson.readLines(data, true, (line, record) -> out.add(fromRecord.read(data, line, record)));
        }
        if (texts == null && data == null) {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (!line.isBlank()) {
                        out.add(fromText.apply(line));
                    }
                }
            }
        }
        return out;
    }
}
