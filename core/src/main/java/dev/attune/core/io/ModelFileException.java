package dev.attune.core.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model file or checkpoint directory that Attune cannot use as it is: malformed, truncated, or not matching what
 * was expected. The message starts with the file and names the problem (tensor, expected and actual shape, ...).
 */
public class ModelFileException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public ModelFileException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public ModelFileException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file or directory the problem is in. */
    public Path file() {
        return file;
    }
}
