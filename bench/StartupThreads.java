import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a command's CPU time goes, by thread: runs {@code attune ARGS} in this JVM as the launcher's java does
 * (ND4J started early on a second thread, then the command), and prints, after it, the CPU milliseconds of every
 * live thread grouped by name (main thread "java", JIT compilers "C1/C2 CompilerThre", GC, OpenMP workers) from
 * /proc/self/task, plus the process's total. Threads that ended before (the ND4J starter) count only in the total.
 * bench/startup-threads.sh compiles and runs it; Linux only.
 */
public class StartupThreads {
    public static void main(String[] args) throws Exception {
        Class<?> cli = Class.forName("dev.attune.examples.cli.AttuneCli");
        var early = cli.getDeclaredMethod("startEngineEarly", String[].class);
        early.setAccessible(true);
        early.invoke(null, (Object) args);
        int rc = (Integer) cli.getMethod("run", String[].class).invoke(null, (Object) args);
        long ticksPerSecond = 100; // USER_HZ, 100 on Linux x86-64
        Map<String, Long> byName = new TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String stat = Files.readString(task.resolve("stat"));
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("[0-9]+$", "#");
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime + stime
                byName.merge(name, ticks * 1000 / ticksPerSecond, Long::sum);
            }
        }
        String[] self = Files.readString(Path.of("/proc/self/stat")).split("\\) ")[1].split(" ");
        long total = (Long.parseLong(self[11]) + Long.parseLong(self[12])) * 1000 / ticksPerSecond;
        StringBuilder line = new StringBuilder("process=" + total);
        byName.forEach((name, ms) -> {
            if (ms > 0) {
                line.append(' ').append(name.replace(' ', '_')).append('=').append(ms);
            }
        });
        System.err.println("cpu_ms " + line);
        System.exit(rc);
    }
}
