package dev.attune.examples.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.examples.cli.Cli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Runs every workload in smoke mode so the harness cannot rot; timing itself is never asserted. */
class BenchCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void smokeRunsEveryWorkloadAndPrintsConsistentJsonLines() throws IOException {
        Cli r = Cli.run("bench", "all", "--smoke");
        assertThat(r.exitCode()).as(r.err()).isZero();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : r.out().strip().split("\n")) {
            lines.add(JSON.readTree(line));
        }
        assertThat(lines).hasSize(Workloads.all().size());
        for (JsonNode line : lines) {
            String what = line.toString();
            for (String key : List.of("impl", "blas", "version", "workload", "threads", "warmup", "iters",
                    "seconds_median", "seconds_min", "seconds_max", "value", "unit", "peak_rss_mb", "smoke")) {
                assertThat(line.has(key)).as("key %s in %s", key, what).isTrue();
            }
            assertThat(line.get("smoke").asBoolean()).isTrue();
            assertThat(line.get("iters").asInt()).isEqualTo(1);
            double median = line.get("seconds_median").asDouble();
            assertThat(median).as(what).isPositive()
                    .isBetween(line.get("seconds_min").asDouble(), line.get("seconds_max").asDouble());
            assertThat(line.get("peak_rss_mb").asDouble()).as(what).isPositive();
            // value is the work of one iteration over the median time, recomputed here from the line's own fields.
            String unit = line.get("unit").asText();
            double work = switch (unit) {
                case "tokens/s" -> line.get("tokens_per_iter").asDouble();
                case "items/s" -> line.get("items_per_iter").asDouble();
                case "GFLOP/s" -> line.get("flops_per_iter").asDouble() * 1e-9;
                case "GB/s" -> line.get("bytes_per_iter").asDouble() * 1e-9;
                default -> throw new AssertionError("unexpected unit " + unit + " in " + what);
            };
            assertThat(line.get("value").asDouble()).as(what).isCloseTo(work / median,
                    org.assertj.core.data.Percentage.withPercentage(1e-6));
        }
        // Both tokenizers implement GPT-2's encoding: over the same text they must produce as many tokens.
        List<JsonNode> tokenize = lines.stream().filter(l -> l.get("workload").asText().equals("tokenize")).toList();
        assertThat(tokenize).extracting(l -> l.get("impl").asText()).containsExactlyInAnyOrder("attune", "jtokkit");
        assertThat(tokenize.get(0).get("tokens_per_iter").asLong()).isPositive()
                .isEqualTo(tokenize.get(1).get("tokens_per_iter").asLong());
        JsonNode sgemm = lines.stream().filter(l -> l.get("workload").asText().equals("sgemm"))
                .findFirst().orElseThrow();
        assertThat(sgemm.get("flops_per_iter").asLong())
                .isEqualTo(2L * sgemm.get("m").asLong() * sgemm.get("k").asLong() * sgemm.get("n").asLong());
    }

    @Test
    void unknownWorkloadIsNamedInTheError() {
        Cli r = Cli.run("bench", "trian-tiny", "--smoke");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("unknown workload 'trian-tiny'").contains("sgemm");
    }

    @Test
    void attuneWorkloadsHaveTheirPyTorchCounterpart() throws IOException {
        // The peer script lives in the repository's bench/ folder; surefire runs in the examples module.
        Path peer = Path.of("..", "bench", "pytorch_peer.py");
        Matcher m = Pattern.compile("^\\s+\"([a-z0-9-]+)\": \\(", Pattern.MULTILINE).matcher(Files.readString(peer));
        Set<String> python = new HashSet<>();
        while (m.find()) {
            python.add(m.group(1));
        }
        Set<String> java = Workloads.all().values().stream().filter(w -> w.impl().equals("attune"))
                .map(w -> Workloads.peerOf(w.reportedName())).filter(n -> n != null && !n.equals("tokenize"))
                .collect(Collectors.toSet());
        assertThat(java).isEqualTo(python);
    }
}
