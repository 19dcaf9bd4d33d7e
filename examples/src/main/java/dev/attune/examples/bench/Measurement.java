package dev.attune.examples.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one workload measured: the seconds of each timed iteration, the work one iteration does (tokens, FLOPs or
 * bytes, in the workload's unit before scaling) and the shape fields that go into its JSON line.
 */
record Measurement(double[] seconds, double workPerIteration, Map<String, Object> fields) {

    Measurement {
        if (seconds.length == 0) {
            throw new IllegalArgumentException("a measurement needs at least one timed iteration");
        }
        seconds = seconds.clone();
        fields = new LinkedHashMap<>(fields);
    }

    /** Shape fields in the order given: {@code fields("m", 512, "k", 768)}. */
    static Map<String, Object> fields(Object... keysAndValues) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            out.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return out;
    }

    double median() {
        double[] s = seconds.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    double min() {
        return Arrays.stream(seconds).min().orElseThrow();
    }

    double max() {
        return Arrays.stream(seconds).max().orElseThrow();
    }
}
