package dev.attune.prompting.eval;

import java.io.IOException;
import java.nio.file.Path;

/** A task file problem, with the file, the 1-based line and (where there is one) the field. */
public final class TaskFileException extends IOException {

    private final Path file;
    private final int line;
    private final String field;

    public TaskFileException(Path file, int line, String field, String message) {
        super(file + ":" + line + ": " + (field == null ? "" : "field \"" + field + "\": ") + message);
        this.file = file;
        this.line = line;
        this.field = field;
    }

    public Path file() {
        return file;
    }

    public int line() {
        return line;
    }

    /** The field at fault, or null when the line as a whole is. */
    public String field() {
        return field;
    }
}
