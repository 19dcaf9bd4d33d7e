package dev.attune.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.data.TokenWindows;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.core.train.LmTraining;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuickstartTest {

    @Test
    void corpusIsTheApacheLicenseFromTheJacksonJar() throws Exception {
        String text = Quickstart.apacheLicenseText();
        assertThat(text).contains("Apache License").contains("Version 2.0, January 2004");
        assertThat(text.length()).isBetween(10_000, 12_000);
    }

    @Test
    void shortRunLearnsSavesReloadsAndGenerates(@TempDir Path out) throws Exception {
        Quickstart.Result r = Quickstart.run(24, out, false, new PrintStream(OutputStream.nullOutputStream()));

        assertThat(r.training().steps()).isEqualTo(24);
        // ln(50257) = 10.8 for an untrained model; two dozen steps on 3k tokens must take off several nats
        assertThat(r.initialLoss()).isGreaterThan(10.0);
        assertThat(r.training().bestValidationLoss()).isLessThan(r.initialLoss() - 3.0);
        Pretrained reloaded = Pretrained.load(r.modelDirectory());
        assertThat(reloaded.model().parameterCount()).isEqualTo(7_242_624L);
        assertThat(r.generation().ids()).hasSize(48);
        assertThat(r.generation().text()).isNotEmpty();

        // its directory is fixed, so running it again starts a fresh run in it
        Quickstart.Result again = Quickstart.run(2, out, false, new PrintStream(OutputStream.nullOutputStream()));
        assertThat(again.training().steps()).isEqualTo(2);
        assertThat(java.nio.file.Files.readAllLines(out.resolve("training/metrics.jsonl")))
                .noneMatch(l -> l.contains("\"step\":24"));
    }

    /** The summary's numbers are the training log's, and model/ holds the weights of the best validation loss. */
    @Test
    void theSummaryAndTheLogAgreeAndTheSavedModelIsTheBest(@TempDir Path out) throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        Quickstart.Result r = Quickstart.run(12, out, false, new PrintStream(console, true, StandardCharsets.UTF_8));
        double best = r.training().bestValidationLoss();
        assertThat(console.toString(StandardCharsets.UTF_8)).contains(String.format(Locale.ROOT,
                "validation loss %.3f -> %.3f", r.initialLoss(), best));

        ObjectMapper json = new ObjectMapper();
        double loggedBest = Double.POSITIVE_INFINITY;
        for (String line : Files.readAllLines(out.resolve("training").resolve(LmTraining.METRICS_FILE))) {
            JsonNode n = json.readTree(line);
            if (n.get("event").asText().equals("evaluation")) {
                loggedBest = Math.min(loggedBest, n.get("val_loss").asDouble());
            }
        }
        assertThat(best).isEqualTo(loggedBest);

        TokenWindows.Split data = TokenWindows.of(Tokenizer.gpt2().encode(Quickstart.apacheLicenseText())).split(0.1);
        GptModel saved = HfCheckpoint.load(r.modelDirectory());
        assertThat(LmTraining.evaluate(saved, data.validation(), 8, 64, 20)).isCloseTo(best, within(1e-9));
        GptModel untrained = GptModel.create(saved.config(), 1234);
        assertThat(LmTraining.evaluate(untrained, data.validation(), 8, 64, 20)).isCloseTo(r.initialLoss(),
                within(1e-9));
    }
}
