package dev.attune.core.engine;

import java.util.Locale;
import java.util.Set;
import org.nd4j.linalg.api.blas.Blas;
import org.slf4j.LoggerFactory;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One place that starts ND4J the way Attune wants it: MKL as BLAS where it loads (OpenBLAS otherwise), a chosen
 * thread count, and no start-up banners. Every entry point that touches ND4J calls {@link #init()} first.
 *
 * <p>Settings, read once, system property first, then environment variable:
 * <ul>
 *   <li>{@code attune.blas} / {@code ATTUNE_BLAS}: {@code mkl} (default) or {@code openblas}.</li>
 *   <li>{@code attune.threads} / {@code ATTUNE_THREADS}: BLAS and OpenMP threads (default: available processors).</li>
 *   <li>{@code attune.reproducible} / {@code ATTUNE_REPRODUCIBLE}: {@code true} (default) makes MKL give the same
 *       results run after run for the same thread count (its conditional numerical reproducibility, mode AUTO);
 *       without it MKL's GEMM results depend on how the arrays happen to be aligned in memory, and a seeded
 *       training run drifts in the last bits from one run to the next.</li>
 *   <li>{@code attune.native.lookups} / {@code ATTUNE_NATIVE_LOOKUPS}: a file in which to keep where JavaCPP found
 *       each native library, so that later starts skip its search across the class path (about half of ND4J's
 *       start with many jars; the same libraries load either way). Unset by default; the {@code attune} launcher
 *       sets it. The file is ignored when the class path, the library path or JavaCPP's settings differ from when
 *       it was written.</li>
 * </ul>
 */
public final class Engine {

    private static volatile Info info;
    /** {@code info.cpu()}, computed once: {@link #isCpu()} is asked on every kernel call of a training step. */
    private static boolean onCpu;
    private static Set<String> primedLookups = Set.of();

    private Engine() {
    }

    /** What the engine runs on, for {@code attune info} and benchmark reports. */
    public record Info(String backend, String blas, int threads, boolean mklRequested) {
        /** True on ND4J's CPU backend. */
        public boolean cpu() {
            return backend.toLowerCase(Locale.ROOT).contains("cpu");
        }

        @Override
        public String toString() {
            return backend + " / " + blas + " / " + threads + " thread" + (threads == 1 ? "" : "s");
        }
    }

    /** Starts ND4J if it is not started yet and returns what it runs on. Safe to call from any thread, any time. */
    public static Info init() {
        Info current = info;
        if (current != null) {
            return current;
        }
        synchronized (Engine.class) {
            if (info == null) {
                Info started = start();
                onCpu = started.cpu();
                info = started;  // the volatile write after onCpu's publishes both to init()'s volatile read
            }
            return info;
        }
    }

    private static Info start() {
        String blasChoice = setting("attune.blas", "ATTUNE_BLAS", "mkl").toLowerCase(Locale.ROOT);
        boolean wantMkl = blasChoice.equals("mkl");
        // JavaCPP reads this when ND4J first loads its BLAS: mkl_rt comes from the org.bytedeco:mkl jars.
        boolean useMkl = wantMkl && System.getProperty("org.bytedeco.openblas.load") == null && mklLoads();
        if (useMkl) {
            System.setProperty("org.bytedeco.openblas.load", "mkl_rt");
        }
        // after the properties that decide which libraries JavaCPP looks for, before its first lookup
        NativeLookups lookups =
                NativeLookups.forSetting(setting("attune.native.lookups", "ATTUNE_NATIVE_LOOKUPS", ""));
        if (lookups != null) {
            primedLookups = lookups.prime();
        }
        if (useMkl && !mklStarts()) {
            System.clearProperty("org.bytedeco.openblas.load");
            useMkl = false;
        }
        if (useMkl && Boolean.parseBoolean(setting("attune.reproducible", "ATTUNE_REPRODUCIBLE", "true"))) {
            reproducibleMkl();
        }
        // ND4J prints its version banner and environment at INFO: keep them out unless the user asked for them.
        quietLogger("org.nd4j");
        quietLogger("org.nd4j.linalg.factory.Nd4jBackend");
        quietLogger("org.nd4j.linalg.cpu.nativecpu.CpuNDArrayFactory");
        quietLogger("org.nd4j.nativeblas.Nd4jBlas");

        int threads = Integer.parseInt(setting("attune.threads", "ATTUNE_THREADS",
                Integer.toString(Runtime.getRuntime().availableProcessors())));
        if (threads < 1) {
            throw new IllegalArgumentException("attune.threads must be at least 1, got " + threads);
        }
        Blas blas = Nd4j.factory().blas();
        blas.setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        String backend = Nd4j.getBackend().getClass().getSimpleName();
        if (lookups != null) {
            lookups.save();
        }
        return new Info(backend, blas.getBlasVendor().name(), threads, wantMkl);
    }

    /** The library names whose lookups the start took from the {@code attune.native.lookups} file. */
    static Set<String> primedLookups() {
        init();
        return primedLookups;
    }

    /** True when ND4J runs on the CPU backend, where Attune's fused kernels over host memory are used. */
    public static boolean isCpu() {
        init();
        return onCpu;
    }

    /**
     * Whether MKL is there to serve as BLAS; otherwise ND4J keeps its bundled OpenBLAS. On Linux the check is that the
     * MKL jars hold this platform's libraries, without loading them: they are loaded once, by {@link #mklStarts()},
     * after the library lookups are primed (see {@link NativeLookups}). Elsewhere MKL is loaded here to be sure.
     * {@code ATTUNE_BLAS=openblas} is the way out where MKL is present but misbehaves.
     */
    private static boolean mklLoads() {
        try {
            // not initialised here: its static initialiser loads MKL through JavaCPP, which mklStarts() does later
            Class<?> mkl = Class.forName("org.bytedeco.mkl.global.mkl_rt", false, Engine.class.getClassLoader());
            String platform = org.bytedeco.javacpp.Loader.getPlatform();
            if (platform.startsWith("linux")) {
                String dir = "/org/bytedeco/mkl/" + platform + "/";
                return mkl.getResource(dir + System.mapLibraryName("jnimkl_rt")) != null
                        && mkl.getResource(dir + "libmkl_rt.so.2") != null;
            }
            org.bytedeco.javacpp.Loader.load(mkl);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        } catch (Throwable e) {
            LoggerFactory.getLogger(Engine.class).warn("MKL did not load ({}); using OpenBLAS", e.toString());
            return false;
        }
    }

    /**
     * Loads MKL (the {@code mkl_rt} class's static initialiser loads its libraries through JavaCPP) before ND4J asks
     * for it as BLAS, so that an MKL that is present but cannot run leaves ND4J on OpenBLAS instead of failing it.
     */
    private static boolean mklStarts() {
        try {
            Class.forName("org.bytedeco.mkl.global.mkl_rt", true, Engine.class.getClassLoader());
            return true;
        } catch (Throwable e) {
            LoggerFactory.getLogger(Engine.class).warn("MKL did not load ({}); using OpenBLAS", e.toString());
            return false;
        }
    }

    /** {@code MKL_CBWR_Set(MKL_CBWR_AUTO)}, before MKL's first computation; reflective so the CUDA build compiles. */
    private static void reproducibleMkl() {
        try {
            Class<?> rt = Class.forName("org.bytedeco.mkl.global.mkl_rt");
            int auto = rt.getField("MKL_CBWR_AUTO").getInt(null);
            rt.getMethod("MKL_CBWR_Set", int.class).invoke(null, auto);
        } catch (ReflectiveOperationException | LinkageError e) {
            // MKL stays in its default mode: results are correct, only not bit-reproducible
        }
    }

    private static void quietLogger(String name) {
        String key = "org.slf4j.simpleLogger.log." + name;
        // a level the user chose (-Dorg.slf4j.simpleLogger.defaultLogLevel=info) shows the banners as asked
        if (System.getProperty(key) == null && System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty(key, "warn");
        }
    }

    static String setting(String property, String env, String fallback) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            value = System.getenv(env);
        }
        return value == null || value.isBlank() ? fallback : value.trim();
    }
}
