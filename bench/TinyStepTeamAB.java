import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * The tiny model's forward+backward step (fwdbwd-tiny's model and batch) with the step team on and off, alternating
 * every 10 steps in one process, so that both halves see the same load: on a shared machine separate processes
 * minutes apart differ by more than the change. "off" routes every range to the fork-join pool, as before the team
 * served training (the attune.stepTeam switch, set by reflection). With a second argument {@code Class#field}, a
 * static boolean test switch, the team stays on and that switch alternates instead ("on" is the switch false, the
 * default path; "off" is it true), or with
 * {@code Class#field=ON,OFF}, a static long set to ON and OFF in turn. Prints the median, quartiles, minimum and process CPU per step of each.
 * bench/tiny-step-team-ab.sh compiles and runs it.
 */
public class TinyStepTeamAB {
    public static void main(String[] args) throws Exception {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 600;
        Class<?> benches = Class.forName("dev.attune.examples.bench.ModelBenches");
        Method tokens = benches.getDeclaredMethod("randomTokens", int.class, int.class, int.class, long.class);
        tokens.setAccessible(true);
        Field tiny = benches.getDeclaredField("TINY");
        tiny.setAccessible(true);
        Object shape = tiny.get(null);
        Method config = shape.getClass().getDeclaredMethod("config");
        config.setAccessible(true);
        GptModel model = GptModel.create((GptConfig) config.invoke(shape), 1);
        TokenBatch batch = TokenBatch.of((int[][]) tokens.invoke(null, 8, 64, 256, 2L),
                (int[][]) tokens.invoke(null, 8, 64, 256, 3L));
        Field mode = Class.forName("dev.attune.core.engine.StepTeam").getDeclaredField("mode");
        mode.setAccessible(true);
        Field flag = null;
        if (args.length > 1) {
            String[] at = args[1].split("[#=,]");
            flag = Class.forName(at[0]).getDeclaredField(at[1]);
            flag.setAccessible(true);
            if (at.length == 4) {    // Class#field=ON,OFF: a long switch with the two values
                values = new long[] {Long.parseLong(at[2]), Long.parseLong(at[3])};
            }
        }
        for (int i = 0; i < 150; i++) {   // warm-up, both ways
            set(mode, flag, i % 20 < 10);
            model.forwardBackward(batch, batch.validTargets(), false, 0);
        }
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean();
        double[][] ms = new double[2][steps / 2 + 1];
        int[] count = new int[2];
        long[] cpu = new long[2];
        for (int i = 0; i < steps; i++) {
            int side = (i / 10) % 2;      // 0: team on, 1: off
            set(mode, flag, side == 0);
            long c0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            model.forwardBackward(batch, batch.validTargets(), false, 0);
            ms[side][count[side]++] = (System.nanoTime() - t0) / 1e6;
            cpu[side] += os.getProcessCpuTime() - c0;
        }
        for (int side = 0; side < 2; side++) {
            double[] t = Arrays.copyOf(ms[side], count[side]);
            Arrays.sort(t);
            int n = t.length;
            System.out.printf("%s %-3s: median %.2f ms, quartiles %.2f-%.2f, min %.2f, process CPU %.2f ms a step%n",
                    flag == null ? "team" : flag.getName(), side == 0 ? "on" : "off", t[n / 2], t[n / 4], t[3 * n / 4], t[0], cpu[side] / 1e6 / n);
        }
    }

    /** The team on or off, or with a switch given, the team on and the switch false ("on") or true. */
    private static void set(Field mode, Field flag, boolean on) throws IllegalAccessException {
        if (flag == null) {
            mode.set(null, on ? "on" : "off");
        } else if (values != null) {
            mode.set(null, "on");
            flag.setLong(null, values[on ? 0 : 1]);
        } else {
            mode.set(null, "on");
            flag.setBoolean(null, !on);
        }
    }

    private static long[] values;   // a long switch's two values, "on" first
}
