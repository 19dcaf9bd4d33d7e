package dev.attune.finetune.peft;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The files scripts/peft/make_fixtures.py made with Python's PEFT (versions in expected.json): a tiny random GPT-2
 * under {@code base/}, one adapter per method, PEFT's logits for {@link #ids()} and greedy generations.
 */
public final class Fixtures {

    /** Training text for the tiny base: a short cycle it has not learned, which every method fits in a few dozen steps. */
    public static final int[] CYCLE = {3, 41, 17, 8, 29, 41, 60};

    private Fixtures() {
    }

    /**
     * A base for training tests: the fixture's shape and initialiser (std 0.3, wide enough that rescaling methods such
     * as IA3 have something to rescale), other weights than the PEFT fixture's. Same weights every call.
     */
    public static GptModel trainingBase() {
        return GptModel.create(base().config(), 7);
    }

    public static Path root() {
        try {
            return Path.of(Fixtures.class.getResource("/peft").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Path adapter(String name) {
        return root().resolve(name);
    }

    public static GptModel base() {
        try {
            return HfCheckpoint.load(root().resolve("base"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static JsonNode expected() {
        try {
            return new ObjectMapper().readTree(root().resolve("expected.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The fixed input ids, [2][8]. */
    public static int[][] ids() {
        JsonNode ids = expected().get("ids");
        int[][] out = new int[ids.size()][];
        for (int r = 0; r < out.length; r++) {
            out[r] = new int[ids.get(r).size()];
            for (int i = 0; i < out[r].length; i++) {
                out[r][i] = ids.get(r).get(i).asInt();
            }
        }
        return out;
    }

    public static TokenBatch batch() {
        return TokenBatch.of(ids(), ids());
    }

    /** PEFT's logits [2, 8, V] under {@code key} (an adapter name, "base", or "NAME.merged"). */
    public static INDArray logits(String key) {
        try (SafeTensors f = SafeTensors.open(root().resolve("expected_logits.safetensors"))) {
            return f.read(key);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** PEFT's greedy continuation of the prompt, for {@code key}. */
    public static int[] greedy(String key) {
        JsonNode g = expected().get("greedy").get(key);
        int[] out = new int[g.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = g.get(i).asInt();
        }
        return out;
    }

    public static int[] prompt() {
        JsonNode p = expected().get("prompt");
        int[] out = new int[p.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = p.get(i).asInt();
        }
        return out;
    }

    /**
     * Asserts that the adapter Attune wrote to {@code written} is the committed adapter {@code name} (config, tensor
     * names and values, exactly), which PEFT loaded in scripts/peft/check_attune_adapter.py. With
     * {@code -Dattune.peft.export=DIR} the written files are first copied to {@code DIR/name}: copy that folder over
     * the committed one and rerun the script to regenerate both.
     */
    public static void assertSameAsCommitted(Path written, String name) throws IOException {
        String export = System.getProperty("attune.peft.export");
        if (export != null) {
            Path to = Files.createDirectories(Path.of(export).resolve(name));
            for (String f : new String[] {AdapterFiles.CONFIG_FILE, AdapterFiles.WEIGHTS_FILE}) {
                Files.copy(written.resolve(f), to.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Path committed = adapter(name);
        assertThat(AdapterFiles.readConfig(written)).isEqualTo(AdapterFiles.readConfig(committed));
        try (SafeTensors ours = AdapterFiles.openWeights(written);
             SafeTensors theirs = AdapterFiles.openWeights(committed)) {
            assertThat(ours.names()).containsExactlyInAnyOrderElementsOf(theirs.names());
            for (String key : theirs.names()) {
                assertThat(ours.read(key)).as(key).isEqualTo(theirs.read(key));
            }
        }
    }

    public static double maxAbsDiff(INDArray a, INDArray b) {
        return a.castTo(b.dataType()).sub(b).reshape(-1).amaxNumber().doubleValue();
    }
}
