package dev.attune.examples.cli;

/** The {@code --output} choices shared by subcommands. */
enum OutputFormat {
    text,
    json
}
