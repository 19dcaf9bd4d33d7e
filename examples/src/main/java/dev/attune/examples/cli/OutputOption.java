package dev.attune.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/**
 * The {@code --output text|json} option every command that reports results shares (a picocli mixin), and the one
 * JSON writer they print with: one object on one line, keys in the order they were put.
 */
final class OutputOption {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--output", defaultValue = "text", paramLabel = "FORMAT",
            description = "text or json")
    OutputFormat format = OutputFormat.text;

    boolean json() {
        return format == OutputFormat.json;
    }

    /** A new, empty JSON object to fill and {@link #print}. */
    static ObjectNode object() {
        return JSON.createObjectNode();
    }

    /** Prints {@code node} as one line of JSON. */
    static void print(PrintWriter out, JsonNode node) {
        try {
            out.println(JSON.writeValueAsString(node));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
        out.flush();
    }

    /** Prints {@code node} indented, for output meant to be read as well as parsed. */
    static void printPretty(PrintWriter out, JsonNode node) {
        try {
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
        out.flush();
    }

    /** Parses JSON text (e.g. {@code GptConfig.toJson()}) into a node to embed. */
    static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("not JSON: " + e.getMessage(), e);
        }
    }
}
