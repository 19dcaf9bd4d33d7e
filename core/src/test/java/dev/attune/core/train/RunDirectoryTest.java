package dev.attune.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.data.TokenWindows;
import dev.attune.core.io.AtomicFiles;
import dev.attune.core.model.GptModel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirectoryTest {

    @TempDir
    Path dir;

    @Test
    void aSecondRunOnTheSameDirectoryIsRefusedUntilTheFirstCloses() throws IOException {
        Path out = dir.resolve("run");
        try (RunDirectory first = RunDirectory.open(out, RunDirectory.Mode.NEW)) {
            assertThat(Files.readString(out.resolve(RunDirectory.LOCK_FILE)))
                    .contains("pid=" + ProcessHandle.current().pid()).contains("host=");
            assertThatThrownBy(() -> RunDirectory.open(out, RunDirectory.Mode.RESUME))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("is in use by another run")
                    .hasMessageContaining("pid " + ProcessHandle.current().pid());
        }
        assertThat(out.resolve(RunDirectory.LOCK_FILE)).isEmptyFile();
        try (RunDirectory again = RunDirectory.open(out, RunDirectory.Mode.NEW)) {
            assertThat(again.notes()).isEmpty(); // released cleanly: no stale lock
        }
    }

    @Test
    void anotherProcessHoldsTheLockAndAKilledOwnerLeavesAStaleLockThatIsTakenOver() throws Exception {
        Path out = dir.resolve("run");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                LockHolder.class.getName(), out.toString()).redirectErrorStream(true).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(holder.getInputStream(),
                    StandardCharsets.UTF_8));
            String line;
            while ((line = lines.readLine()) != null && !line.startsWith("locked ")) {
                // SLF4J's start-up lines
            }
            assertThat(line).as("the holder process locked the directory").isNotNull();
            long pid = holder.pid();
            assertThatThrownBy(() -> RunDirectory.open(out, RunDirectory.Mode.RESUME))
                    .hasMessageContaining("in use by another run (pid " + pid + " on host ");

            holder.destroyForcibly(); // kill -9: no chance to release the lock file's content
            assertThat(holder.waitFor(20, TimeUnit.SECONDS)).isTrue();
            try (RunDirectory taken = RunDirectory.open(out, RunDirectory.Mode.RESUME)) {
                assertThat(taken.notes()).anySatisfy(n -> assertThat(n).contains("stale lock")
                        .contains("pid " + pid));
            }
        } finally {
            holder.destroyForcibly();
        }
    }

    @Test
    void aNewRunRefusesADirectoryHoldingAnotherRunAndOverwriteReplacesIt() throws IOException {
        Path out = dir.resolve("run");
        Files.createDirectories(out.resolve("checkpoint-000010"));
        Files.writeString(out.resolve("metrics.jsonl"), "{}\n");
        assertThatThrownBy(() -> RunDirectory.open(out, RunDirectory.Mode.NEW))
                .hasMessageContaining("already holds files of another run")
                .hasMessageContaining("checkpoint-000010").hasMessageContaining("metrics.jsonl");
        assertThat(out.resolve("metrics.jsonl")).exists(); // nothing lost
        assertThat(out.resolve(RunDirectory.LOCK_FILE)).isEmptyFile(); // a refusal leaves no stale lock behind

        try (RunDirectory run = RunDirectory.open(out, RunDirectory.Mode.OVERWRITE)) {
            assertThat(run.notes()).anySatisfy(n -> assertThat(n).contains("deleted the earlier run"));
        }
        try (var left = Files.list(out)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly(RunDirectory.LOCK_FILE);
        }
    }

    @Test
    void overwriteNeverDeletesFilesNoRunWrites() throws IOException {
        Path home = dir.resolve("home");
        Files.createDirectories(home);
        Files.writeString(home.resolve("thesis.tex"), "years of work");
        Files.writeString(home.resolve("metrics.jsonl"), "{}\n");
        assertThatThrownBy(() -> RunDirectory.open(home, RunDirectory.Mode.OVERWRITE))
                .hasMessageContaining("holds files that no training run writes (thesis.tex)");
        assertThat(home.resolve("thesis.tex")).hasContent("years of work");
    }

    @Test
    void aFileOrAnUnwritablePathIsNamedAsSuch() throws IOException {
        Path file = Files.writeString(dir.resolve("notes.txt"), "x");
        assertThatThrownBy(() -> RunDirectory.open(file, RunDirectory.Mode.NEW))
                .hasMessageContaining(file + " is a file, not a directory");
        assertThatThrownBy(() -> RunDirectory.open(file.resolve("sub"), RunDirectory.Mode.NEW))
                .hasMessageContaining("cannot create the output directory " + file.resolve("sub"));
        Path locked = Files.createDirectories(dir.resolve("readonly"));
        locked.toFile().setWritable(false);
        try {
            if (!Files.isWritable(locked)) { // root can write anywhere; the message is then never needed
                assertThatThrownBy(() -> RunDirectory.open(locked.resolve("run"), RunDirectory.Mode.NEW))
                        .hasMessageContaining("cannot create the output directory")
                        .hasMessageContaining("permission denied");
            }
        } finally {
            locked.toFile().setWritable(true);
        }
    }

    @Test
    void aReplacementKilledBetweenItsRenamesIsCompletedAndLeftoversAreRemoved() throws IOException {
        Path out = dir.resolve("run");
        Files.createDirectories(out);
        // killed after "best" became ".best.old-7" and before ".best.new-7" became "best"
        Files.createDirectories(out.resolve(".best.old-7"));
        Files.writeString(out.resolve(".best.old-7/model.safetensors"), "old weights");
        Files.createDirectories(out.resolve(".best.new-7"));
        Files.writeString(out.resolve(".best.new-7/model.safetensors"), "new weights");
        // killed while writing a checkpoint, and while writing a file
        Files.createDirectories(out.resolve(".checkpoint-000004.tmp-123"));
        Files.write(out.resolve(".checkpoint-000004.tmp-123/model.safetensors"), new byte[1000]);
        Files.write(out.resolve(".corpus.bin.4567.tmp"), new byte[10]);
        Files.createDirectories(out.resolve("model"));
        Files.write(out.resolve("model/.vocab.json.99.tmp"), new byte[10]);
        // the layout today's releases leave: ".name.old.N" beside an unfinished ".name.N"
        Files.createDirectories(out.resolve(".checkpoint-000002.old.55"));
        Files.writeString(out.resolve(".checkpoint-000002.old.55/trainer_state.json"), "{}");
        Files.createDirectories(out.resolve(".checkpoint-000002.56"));

        try (RunDirectory run = RunDirectory.open(out, RunDirectory.Mode.RESUME)) {
            assertThat(run.notes()).anySatisfy(n -> assertThat(n).contains("completed the interrupted replacement")
                    .contains("best"));
            assertThat(run.notes()).anySatisfy(n -> assertThat(n).contains("restored").contains("checkpoint-000002"));
            assertThat(run.notes()).anySatisfy(n -> assertThat(n).contains("removed 4 temporary files"));
        }
        assertThat(out.resolve("best/model.safetensors")).hasContent("new weights");
        assertThat(out.resolve("checkpoint-000002/trainer_state.json")).hasContent("{}");
        try (var left = Files.list(out)) {
            assertThat(left.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder(RunDirectory.LOCK_FILE, "best", "model", "checkpoint-000002");
        }
        try (var left = Files.list(out.resolve("model"))) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void aReplacementKilledBeforeItsNewContentWasCompleteKeepsTheOld() throws IOException {
        Path out = dir.resolve("run");
        AtomicFiles.writeDirectory(out.resolve("best"), d -> Files.writeString(d.resolve("w"), "old"));
        Files.createDirectories(out.resolve(".best.tmp-8"));
        Files.writeString(out.resolve(".best.tmp-8/w"), "half");
        assertThat(AtomicFiles.recover(out)).hasSize(1);
        assertThat(out.resolve("best/w")).hasContent("old");
        assertThat(out.resolve(".best.tmp-8")).doesNotExist();
    }

    @Test
    void aTrainerStateMissingASectionNamesIt() throws IOException {
        Path checkpoint = Files.createDirectories(dir.resolve("checkpoint-000001"));
        Files.writeString(checkpoint.resolve(TrainerState.FILE), "{\"format\": \"attune-trainer-state\", \"step\": 1}");
        assertThatThrownBy(() -> TrainerState.read(checkpoint)).isInstanceOf(IOException.class)
                .hasMessageContaining("trainer_state.json: missing \"schedule\"");
    }

    @Test
    void twoTrainingsIntoOneDirectoryAtOnceRefuseTheSecond() throws IOException {
        Path out = dir.resolve("run");
        TokenWindows.Split data = TokenWindows.of(LmTrainingTest.SHORT_TEXT).split(0.3);
        Exception[] second = new Exception[1];
        LmTraining.builder().model(GptModel.create(LmTrainingTest.tiny(0), 1)).data(data.train())
                .batchSize(2).contextLength(16).maxSteps(2).outputDirectory(out).progress(false)
                .listener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics s) {
                        if (s.step() == 1) {
                            try {
                                LmTraining.builder().model(GptModel.create(LmTrainingTest.tiny(0), 2))
                                        .data(data.train()).batchSize(2).contextLength(16).maxSteps(2)
                                        .outputDirectory(out).overwrite(true).progress(false).build().run();
                            } catch (Exception e) {
                                second[0] = e;
                            }
                        }
                    }
                }).build().run();
        assertThat(second[0]).isNotNull().hasMessageContaining("is in use by another run");
        assertThat(LmTraining.checkpoints(out)).hasSize(1); // the first run's, untouched
    }

    @Test
    void aNewTrainingIntoAUsedDirectoryIsRefusedAndResumeChecksWhatTheCheckpointRecorded() throws IOException {
        Path out = dir.resolve("run");
        Path corpus = Files.writeString(dir.resolve("corpus.txt"), "one corpus");
        Path other = Files.writeString(dir.resolve("other.txt"), "another corpus");
        TokenWindows.Split data = TokenWindows.of(LmTrainingTest.SHORT_TEXT).split(0.3);
        training(out, data, List.of(corpus), 4, 2).build().run();

        assertThatThrownBy(() -> training(out, data, List.of(corpus), 4, 2).build().run())
                .hasMessageContaining("already holds files of another run");
        assertThatThrownBy(() -> training(out, data, List.of(other), 6, 2).resume(true).build().run())
                .hasMessageContaining("cannot resume")
                .hasMessageContaining("the data files differ: saved [corpus.txt")
                .hasMessageContaining("now [other.txt");
        assertThatThrownBy(() -> training(out, data, List.of(corpus), 6, 4).resume(true).build().run())
                .hasMessageContaining("the batch shape (rows x accumulation x context) differs: saved 2 x 1 x 16, "
                        + "now 4 x 1 x 16");
        assertThatThrownBy(() -> LmTraining.builder().model(GptModel.create(LmTrainingTest.tiny(0).toBuilder()
                                .layers(1).build(), 1)).data(data.train()).batchSize(2).contextLength(16)
                        .learningRate(1e-3).maxSteps(6).outputDirectory(out).dataFiles(List.of(corpus))
                        .resume(true).progress(false).build().run())
                .hasMessageContaining("the model differs");

        Files.writeString(corpus, "one corpus, edited");
        assertThatThrownBy(() -> training(out, data, List.of(corpus), 6, 2).resume(true).build().run())
                .hasMessageContaining("the data files differ");
        Files.writeString(corpus, "one corpus");
        TrainingResult more = training(out, data, List.of(corpus), 6, 2).resume(true).build().run();
        assertThat(more.steps()).isEqualTo(6); // more steps is a legitimate change
    }

    private static LmTraining.Builder training(Path out, TokenWindows.Split data, List<Path> files, long steps,
                                               int batch) {
        return LmTraining.builder().model(GptModel.create(LmTrainingTest.tiny(0), 1)).data(data.train())
                .batchSize(batch).contextLength(16).learningRate(1e-3).maxSteps(steps).checkpointEvery(2)
                .outputDirectory(out).dataFiles(files).progress(false);
    }
}
