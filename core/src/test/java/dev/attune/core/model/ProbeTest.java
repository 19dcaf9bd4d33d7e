package dev.attune.core.model;

import dev.attune.core.config.GptConfig;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class ProbeTest {
    static long cpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
    @Test
    void probe() {
        GptModel m = GptModel.create(GptConfig.gpt2().withDropout(0), 1);
        for (int rep = 0; rep < 3; rep++) {
            KvCache cache = m.newCache(1, 128);
            m.forward(cache, new int[][] {new int[16]}, null, false);
            long w0 = System.nanoTime(), c0 = cpu();
            for (int i = 0; i < 64; i++) m.forward(cache, new int[][] {{i}}, null, false);
            System.out.printf("decode wall %.1f ms/token cpu %.1f ms/token%n", (System.nanoTime() - w0) / 1e6 / 64, (cpu() - c0) / 1e6 / 64);
        }
    }
}
