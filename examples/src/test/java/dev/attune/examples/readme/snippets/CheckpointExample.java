package dev.attune.examples.readme.snippets;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.model.GptModel;
import java.nio.file.Path;

public class CheckpointExample {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of("runs/quickstart/model");               // or the directory save_pretrained wrote
        GptModel model = HfCheckpoint.load(dir);                   // F32, F16, BF16 or F64; with or without "transformer."
        HfCheckpoint.save(model, Path.of("runs/copy"));            // loads unchanged in GPT2LMHeadModel.from_pretrained
        HfCheckpoint.Summary s = HfCheckpoint.inspect(dir);        // config, parameter count, dtypes; no weights loaded
        System.out.println(s.config() + ", " + s.parameterCount() + " parameters, " + s.dtypes());
    }
}
