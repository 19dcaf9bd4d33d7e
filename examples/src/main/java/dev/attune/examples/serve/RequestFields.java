package dev.attune.examples.serve;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Strict reading of a JSON request body: unknown fields, wrong types and values out of range are refused with a
 * 400 that names the field. {@code null} counts as absent, as OpenAI's API treats it.
 */
final class RequestFields {
    private final ObjectNode node;

    private RequestFields(ObjectNode node) {
        this.node = node;
    }

    /** Parses the body as one JSON object whose fields are all in {@code allowed}. */
    static RequestFields parse(ObjectMapper json, byte[] body, Set<String> allowed) {
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (JacksonException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr();
            throw ApiError.badRequest(null, "request body is not valid JSON" + where + ": " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiError.badRequest(null, "request body could not be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw ApiError.badRequest(null, "request body must be a JSON object, got "
                    + (root == null ? "nothing" : root.getNodeType().name().toLowerCase(java.util.Locale.ROOT)));
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!allowed.contains(name)) {
                throw ApiError.badRequest(name, "unknown field '" + name + "'; this endpoint accepts "
                        + new TreeSet<>(allowed));
            }
        }
        return new RequestFields((ObjectNode) root);
    }

    boolean has(String name) {
        JsonNode v = node.get(name);
        return v != null && !v.isNull();
    }

    JsonNode raw(String name) {
        return has(name) ? node.get(name) : null;
    }

    String string(String name, String fallback) {
        if (!has(name)) {
            return fallback;
        }
        JsonNode v = node.get(name);
        if (!v.isTextual()) {
            throw wrongType(name, "a string", v);
        }
        return v.asText();
    }

    String requiredString(String name) {
        if (!has(name)) {
            throw ApiError.badRequest(name, "missing required field '" + name + "'");
        }
        return string(name, null);
    }

    int integer(String name, int fallback, int min, int max) {
        if (!has(name)) {
            return fallback;
        }
        JsonNode v = node.get(name);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw wrongType(name, "an integer", v);
        }
        return inRange(name, v.asInt(), min, max);
    }

    static int inRange(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw ApiError.badRequest(name, "'" + name + "' must be between " + min + " and " + max + ", got "
                    + value);
        }
        return value;
    }

    Long longValue(String name) {
        if (!has(name)) {
            return null;
        }
        JsonNode v = node.get(name);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw wrongType(name, "an integer", v);
        }
        return v.asLong();
    }

    double number(String name, double fallback, double min, double max) {
        if (!has(name)) {
            return fallback;
        }
        JsonNode v = node.get(name);
        if (!v.isNumber()) {
            throw wrongType(name, "a number", v);
        }
        double d = v.asDouble();
        if (!(d >= min && d <= max)) {
            throw ApiError.badRequest(name, "'" + name + "' must be between " + min + " and " + max + ", got " + d);
        }
        return d;
    }

    boolean bool(String name, boolean fallback) {
        if (!has(name)) {
            return fallback;
        }
        JsonNode v = node.get(name);
        if (!v.isBoolean()) {
            throw wrongType(name, "true or false", v);
        }
        return v.asBoolean();
    }

    /** A string or an array of up to {@code maxItems} strings (OpenAI's {@code stop}). */
    List<String> stringOrStrings(String name, int maxItems) {
        if (!has(name)) {
            return List.of();
        }
        JsonNode v = node.get(name);
        if (v.isTextual()) {
            return List.of(v.asText());
        }
        if (!v.isArray()) {
            throw wrongType(name, "a string or an array of strings", v);
        }
        if (v.size() > maxItems) {
            throw ApiError.badRequest(name, "'" + name + "' holds " + v.size() + " entries, at most " + maxItems
                    + " are allowed");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) {
                throw wrongType(name + "[" + i + "]", "a string", v.get(i));
            }
            out.add(v.get(i).asText());
        }
        return out;
    }

    /** Refuses a field the server knows but does not implement, unless it holds its neutral value. */
    void unsupportedUnless(String name, JsonNode neutral, String why) {
        if (has(name) && !node.get(name).equals(neutral)) {
            throw ApiError.badRequest(name, "'" + name + "' is not supported: " + why);
        }
    }

    static ApiError wrongType(String name, String expected, JsonNode actual) {
        return ApiError.badRequest(name, "'" + name + "' must be " + expected + ", got "
                + actual.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + abbreviate(actual.toString()));
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
