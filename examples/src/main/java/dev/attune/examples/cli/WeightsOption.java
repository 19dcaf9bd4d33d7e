package dev.attune.examples.cli;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.model.WeightFormat;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/**
 * The {@code --weights fp32|bf16|int8} option of the inference commands (generate, score, serve; a picocli mixin):
 * how the model holds its large matrices. Without it a checkpoint loads in the format it was saved in.
 */
final class WeightsOption {

    @Option(names = "--weights", paramLabel = "FORMAT", converter = Converter.class,
            description = "fp32, bf16 or int8: hold the model's matrices compressed for faster inference (float32 "
                    + "arithmetic; int8 in blocks of 32 with a scale each). Default: as the checkpoint was saved")
    WeightFormat format;

    /** The format asked for, or the one the checkpoint in {@code directory} was saved in. */
    WeightFormat resolve(Path directory) throws IOException {
        if (format != null) {
            return format;
        }
        String stored = HfCheckpoint.inspect(directory).metadata().get(HfCheckpoint.WEIGHT_FORMAT_KEY);
        return stored == null ? WeightFormat.FP32 : WeightFormat.parse(stored);
    }

    static final class Converter implements ITypeConverter<WeightFormat> {
        @Override
        public WeightFormat convert(String value) {
            return WeightFormat.parse(value);
        }
    }
}
