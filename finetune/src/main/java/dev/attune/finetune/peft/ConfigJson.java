package dev.attune.finetune.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code adapter_config.json} fields that several PEFT methods share ({@code peft_type}, {@code task_type},
 * {@code base_model_name_or_path}, {@code layers_to_transform}, lists of module names), written and read one way for
 * every method's config.
 */
public final class ConfigJson {

    private ConfigJson() {
    }

    /** A new config object holding {@code peft_type}, {@code task_type} and {@code base_model_name_or_path}. */
    public static ObjectNode header(String peftType, String taskType, String baseModel) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("peft_type", peftType);
        o.put("task_type", taskType);
        if (baseModel == null) {
            o.putNull("base_model_name_or_path");
        } else {
            o.put("base_model_name_or_path", baseModel);
        }
        return o;
    }

    /** Writes {@code layers_to_transform}: null for all layers, else the list. */
    public static void putLayers(ObjectNode o, List<Integer> layers) {
        if (layers.isEmpty()) {
            o.putNull("layers_to_transform");
        } else {
            ArrayNode a = o.putArray("layers_to_transform");
            layers.forEach(a::add);
        }
    }

    /** {@code layers_to_transform} as PEFT writes it (one int or a list); null when it is absent or null. */
    public static int[] layers(JsonNode json) {
        JsonNode layers = json.get("layers_to_transform");
        if (layers == null || layers.isNull()) {
            return null;
        }
        if (layers.isInt()) {
            return new int[] {layers.asInt()};
        }
        if (!layers.isArray()) {
            throw new IllegalArgumentException("layers_to_transform must be an int or a list of ints, got " + layers);
        }
        int[] l = new int[layers.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = layers.get(i).asInt();
        }
        return l;
    }

    /** Adds a problem unless {@code layers} are distinct and non-negative (a builder's check). */
    public static void checkLayers(List<Integer> layers, List<String> problems) {
        if (layers.stream().anyMatch(l -> l < 0) || layers.stream().distinct().count() != layers.size()) {
            problems.add("layers must be distinct non-negative indices, got " + layers);
        }
    }

    /** A builder's {@code layers(int...)} argument as a list. */
    public static List<Integer> indices(int... indices) {
        return Arrays.stream(indices).boxed().toList();
    }

    /** The text under {@code key}, or null when it is missing or not text. */
    public static String textOrNull(JsonNode json, String key) {
        JsonNode v = json.get(key);
        return v != null && v.isTextual() ? v.asText() : null;
    }

    /** The texts of a JSON array, e.g. {@code target_modules}. */
    public static String[] strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out.toArray(String[]::new);
    }
}
