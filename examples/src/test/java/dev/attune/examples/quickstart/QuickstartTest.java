package dev.attune.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.checkpoint.Pretrained;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
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
}
