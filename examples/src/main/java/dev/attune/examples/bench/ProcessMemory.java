package dev.attune.examples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Peak resident set size of this process, the figure {@code /usr/bin/time -v} reports. ND4J keeps tensors off the
 * Java heap, so heap statistics would miss most of the memory a model uses.
 */
final class ProcessMemory {

    private ProcessMemory() {
    }

    /** VmHWM from {@code /proc/self/status} in MiB, or {@code null} where the file does not exist (not Linux). */
    static Double peakRssMb() {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return null;
        }
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return null;
        }
        return null;
    }
}
