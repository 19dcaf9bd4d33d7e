import java.lang.management.ManagementFactory;
import java.nio.file.Path;

/**
 * Where a short command's time goes, phase by phase, in one JVM: JVM start to main, ND4J start (native libraries,
 * BLAS), GPT-2's tokenizer, the model directory's tokenizer files, reading the weights, the first forward pass.
 * Run with the examples jar and its lib/ on the class path (bench/startup.sh does): java -cp ... StartupPhases.java DIR
 * Wall and process CPU milliseconds per phase; CPU counts every thread (JIT compiler and GC included).
 */
public class StartupPhases {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static long wall = System.nanoTime();
    private static long cpu = OS.getProcessCpuTime();

    private static void phase(String what) {
        long w = System.nanoTime();
        long c = OS.getProcessCpuTime();
        System.out.printf("  %-34s %6.0f ms wall %6.0f ms cpu%n", what, (w - wall) / 1e6, (c - cpu) / 1e6);
        wall = w;
        cpu = c;
    }

    public static void main(String[] args) throws Exception {
        System.out.printf("  %-34s %6d ms wall%n", "JVM start to main (source launch)",
                ManagementFactory.getRuntimeMXBean().getUptime());
        wall = System.nanoTime();
        cpu = OS.getProcessCpuTime();
        Path dir = Path.of(args[0]);
        var engine = dev.attune.core.engine.Engine.init();
        phase("ND4J start (" + engine.blas() + ")");
        dev.attune.core.tokenizer.Tokenizer.gpt2();
        phase("GPT-2 tokenizer (JTokkit ranks)");
        dev.attune.core.tokenizer.Tokenizer.load(dir);
        phase("tokenizer files of the directory");
        Class<?> checkpoint;
        try {
            checkpoint = Class.forName("dev.attune.core.checkpoint.HfCheckpoint");
        } catch (ClassNotFoundException e) {
            checkpoint = Class.forName("dev.attune.core.io.HfCheckpoint"); // builds before the package split
        }
        var model = (dev.attune.core.model.GptModel) checkpoint.getMethod("load", Path.class).invoke(null, dir);
        phase("model read (" + model.parameterCount() + " weights)");
        int[] ids = {1, 5, 9};
        model.logits(new dev.attune.core.model.TokenBatch(1, 3, ids, new int[] {5, 9, -1}));
        phase("first forward pass (3 tokens)");
        model.logits(new dev.attune.core.model.TokenBatch(1, 3, ids, new int[] {5, 9, -1}));
        phase("second forward pass");
    }
}
