package dev.attune.core.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Compares a checkpoint's recorded run with the run that wants to continue it. Differences that would make the
 * continued run a different run (another model, other data, another batch shape, seed, optimizer or schedule) are
 * problems, and the trainer refuses to resume; a longer or shorter run is a legitimate change and only warned about.
 *
 * @param problems  differences that forbid resuming, one sentence each
 * @param warnings  differences that are allowed, one sentence each
 */
record ResumeCheck(List<String> problems, List<String> warnings) {

    static ResumeCheck compare(TrainerState saved, TrainerState now) {
        List<String> problems = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        TrainerState.Inputs s = saved.inputs();
        TrainerState.Inputs n = now.inputs();
        if (s == null) {
            warnings.add("the checkpoint does not record its model and data (written by an older version), so they "
                    + "are not checked");
        } else {
            if (!s.tensors().equals(n.tensors())) {
                problems.add("the model differs: " + firstDifference(s.tensors(), n.tensors()));
            }
            boolean filesChecked = !s.dataFiles().isEmpty() && !n.dataFiles().isEmpty();
            if (filesChecked && !s.dataFiles().equals(n.dataFiles())) {
                problems.add("the data files differ: saved " + s.dataFiles() + ", now " + n.dataFiles());
            } else if (s.dataFiles().isEmpty() != n.dataFiles().isEmpty()) {
                warnings.add("the data files cannot be compared: " + (s.dataFiles().isEmpty()
                        ? "the checkpoint records none" : "this run declares none (LmTraining.Builder.dataFiles)"));
            }
            if (!Objects.equals(s.data(), n.data())) {
                String difference = "the data differs: saved \"" + s.data() + "\", now \"" + n.data() + "\"";
                if (filesChecked && s.dataFiles().equals(n.dataFiles())) {
                    warnings.add(difference + " (from the same files)");
                } else {
                    problems.add(difference);
                }
            }
        }
        if (saved.batchSize() != now.batchSize() || saved.accumulation() != now.accumulation()
                || saved.maxLength() != now.maxLength()) {
            problems.add(String.format(Locale.ROOT, "the batch shape (rows x accumulation x context) differs: "
                            + "saved %d x %d x %d, now %d x %d x %d", saved.batchSize(), saved.accumulation(),
                    saved.maxLength(), now.batchSize(), now.accumulation(), now.maxLength()));
        }
        if (saved.seed() != now.seed()) {
            problems.add("the seed differs: saved " + saved.seed() + ", now " + now.seed() + " (the data order and "
                    + "dropout would change)");
        }
        if (!saved.optimizer().equals(now.optimizer())) {
            problems.add("the optimizer settings differ: saved " + saved.optimizer() + ", now " + now.optimizer());
        }
        if (Double.compare(saved.clipGradNorm(), now.clipGradNorm()) != 0) {
            problems.add("gradient clipping differs: saved " + saved.clipGradNorm() + ", now " + now.clipGradNorm());
        }
        LearningRateSchedule a = saved.schedule();
        LearningRateSchedule b = now.schedule();
        // a decaying schedule's length follows the run's length, which may change
        boolean lengthsFollowRuns = a.totalSteps() == saved.maxSteps() && b.totalSteps() == now.maxSteps();
        if (a.kind() != b.kind() || Double.compare(a.peak(), b.peak()) != 0 || a.warmupSteps() != b.warmupSteps()
                || Double.compare(a.floor(), b.floor()) != 0 || (a.totalSteps() != b.totalSteps() && !lengthsFollowRuns)) {
            problems.add("the learning-rate schedule differs: saved " + a + ", now " + b);
        }
        if (saved.maxSteps() != now.maxSteps()) {
            warnings.add("the run now ends at step " + now.maxSteps() + " instead of " + saved.maxSteps()
                    + (a.kind() != LearningRateSchedule.Kind.CONSTANT && lengthsFollowRuns
                    ? ", and the learning-rate schedule is stretched to match" : ""));
        }
        return new ResumeCheck(List.copyOf(problems), List.copyOf(warnings));
    }

    private static String firstDifference(List<String> saved, List<String> now) {
        for (int i = 0; i < Math.min(saved.size(), now.size()); i++) {
            if (!saved.get(i).equals(now.get(i))) {
                return "tensor " + (i + 1) + " was " + saved.get(i) + ", now " + now.get(i);
            }
        }
        return "saved " + saved.size() + " tensors, now " + now.size();
    }
}
