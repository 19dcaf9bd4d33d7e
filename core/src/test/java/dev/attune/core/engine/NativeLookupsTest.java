package dev.attune.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file of JavaCPP's library lookups: what is kept is read back only under the conditions it was written in,
 * it reaches JavaCPP's own map, and a start that uses it loads the same libraries and computes the same bits as one
 * that searched.
 */
class NativeLookupsTest {

    @TempDir
    Path dir;

    private Path jar(String name, String content) throws IOException {
        Path jar = dir.resolve(name);
        Files.writeString(jar, content);
        return jar;
    }

    private static String url(Path jar, String entry) {
        return "jar:" + jar.toUri() + "!/" + entry;
    }

    @Test
    void whatIsWrittenIsReadBackUnderTheSameKey() throws IOException {
        Path jar = jar("natives.jar", "a jar");
        Map<String, List<String>> lookups = new LinkedHashMap<>();
        lookups.put("mkl_core@.2", List.of(url(jar, "org/x/linux-x86_64/libmkl_core.so.2")));
        lookups.put("mkl_rt@.2#openblas@.0", List.of(url(jar, "org/x/linux-x86_64/libmkl_rt.so.2#libopenblas.so.0")));
        lookups.put("mkl_p4@.2", List.of()); // in no jar: kept as "none", so that JavaCPP does not search again
        NativeLookups lookupsFile = new NativeLookups(dir.resolve("lookups.txt"), List.of("class path\ta", "b"));
        lookupsFile.write(lookups);

        assertThat(new NativeLookups(dir.resolve("lookups.txt"), List.of("class path\ta", "b")).read())
                .containsExactlyEntriesOf(lookups);
        assertThat(new NativeLookups(dir.resolve("lookups.txt"), List.of("class path\ta", "c")).read()).isEmpty();
        assertThat(new NativeLookups(dir.resolve("lookups.txt"), List.of("class path\ta")).read()).isEmpty();
        assertThat(new NativeLookups(dir.resolve("lookups.txt"), List.of("class path\ta", "b", "d")).read())
                .isEmpty();
    }

    @Test
    void aChangedJarOrADamagedFileKeepsNothing() throws IOException {
        Path jar = jar("natives.jar", "a jar");
        List<String> key = List.of("k");
        Path file = dir.resolve("lookups.txt");
        new NativeLookups(file, key).write(Map.of("nd4jcpu", List.of(url(jar, "libnd4jcpu.so"))));
        assertThat(new NativeLookups(file, key).read()).containsKey("nd4jcpu");

        Files.writeString(jar, "a rebuilt jar"); // another size
        assertThat(new NativeLookups(file, key).read()).isEmpty();

        new NativeLookups(file, key).write(Map.of("nd4jcpu", List.of(url(jar, "libnd4jcpu.so"))));
        Files.writeString(file, Files.readString(file) + "half a line");
        assertThat(new NativeLookups(file, key).read()).isEmpty();
        Files.delete(file);
        assertThat(new NativeLookups(file, key).read()).isEmpty();
    }

    @Test
    void aUrlWhoseFileCannotBeCheckedIsNotKept() {
        Path file = dir.resolve("lookups.txt");
        new NativeLookups(file, List.of("k")).write(Map.of("x", List.of("http://example.org/libx.so")));
        assertThat(file).doesNotExist();
        assertThat(NativeLookups.fileOf("jar:file:/a/b.jar!/org/libx.so#liby.so")).isEqualTo(Path.of("/a/b.jar"));
        assertThat(NativeLookups.fileOf("file:/usr/lib/libx.so#liby.so")).isEqualTo(Path.of("/usr/lib/libx.so"));
    }

    @Test
    void theKeyFollowsTheClassPathAndJavaCppSettings() {
        List<String> before = NativeLookups.currentKey();
        assertThat(before).anyMatch(line -> line.startsWith("class path\t"));
        String name = "org.bytedeco.attune.test.setting";
        System.setProperty(name, "1");
        try {
            assertThat(NativeLookups.currentKey()).isNotEqualTo(before).contains("property\t" + name + "=1");
        } finally {
            System.clearProperty(name);
        }
        assertThat(NativeLookups.forSetting(" ")).isNull();
    }

    @Test
    void primingFillsJavaCppsOwnMapWithoutReplacingItsEntries() throws IOException {
        Map<String, URL[]> found = NativeLookups.javacppMap();
        assertThat(found).as("JavaCPP's Loader.foundLibraries, reached by reflection").isNotNull();
        Path jar = jar("natives.jar", "a jar");
        List<String> key = NativeLookups.currentKey();
        Path file = dir.resolve("lookups.txt");
        String kept = "attune-test-kept";
        String known = "attune-test-known";
        URL[] knownUrls = new URL[0];
        new NativeLookups(file, key).write(Map.of(kept, List.of(url(jar, "libkept.so")), known, List.of()));
        try {
            found.put(known, knownUrls);
            assertThat(new NativeLookups(file, key).prime()).containsExactly(kept); // JavaCPP's own entry stays
            assertThat(found.get(kept)).extracting(URL::toString).containsExactly(url(jar, "libkept.so"));
            assertThat(found.get(known)).isSameAs(knownUrls);
        } finally {
            found.remove(kept);
            found.remove(known);
        }
    }

    /**
     * Two fresh JVMs start ND4J with the same lookups file: the first searches and writes it, the second is primed
     * from it. Both must load the same native libraries and compute the same GEMM bits.
     */
    @Test
    void aPrimedStartLoadsTheSameLibrariesAndComputesTheSameBits() throws Exception {
        Path file = dir.resolve("lookups.txt");
        List<String> first = startEngine(file);
        assertThat(file).exists();
        String text = Files.readString(file);
        assertThat(text).contains("lib\tnd4jcpu\t").contains("lib\tjnijavacpp\t");
        List<String> second = startEngine(file);
        assertThat(first.get(0)).isEqualTo("primed 0");
        assertThat(second.get(0)).startsWith("primed ").isNotEqualTo("primed 0");
        // every library JavaCPP looked up came from the file, except its own JNI library, which JavaCPP's Loader
        // loads while its class is initialised, before its map can be reached
        assertThat(second.get(1)).isEqualTo("searched [jnijavacpp]");
        assertThat(second.subList(2, second.size())).isEqualTo(first.subList(2, first.size()));
        assertThat(first).anyMatch(line -> line.startsWith("loaded ") && line.contains("nd4jcpu"));
        assertThat(first).anyMatch(line -> line.startsWith("gemm "));
    }

    private List<String> startEngine(Path lookups) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                "-Dattune.native.lookups=" + lookups, "-Dattune.threads=1", EngineStart.class.getName()));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out.lines().toList();
    }

    /** The child JVM of {@link #aPrimedStartLoadsTheSameLibrariesAndComputesTheSameBits}. */
    static final class EngineStart {
        public static void main(String[] args) {
            Engine.Info info = Engine.init();
            System.out.println("primed " + Engine.primedLookups().size());
            java.util.Set<String> searched = new java.util.TreeSet<>(NativeLookups.javacppMap().keySet());
            searched.removeAll(Engine.primedLookups());
            System.out.println("searched " + (Engine.primedLookups().isEmpty() ? "(all)" : searched));
            System.out.println("engine " + info);
            for (Map.Entry<String, String> e : new TreeMap<>(org.bytedeco.javacpp.Loader.getLoadedLibraries())
                    .entrySet()) {
                System.out.println("loaded " + e.getKey() + " " + new File(e.getValue()).getName());
            }
            float[] a = new float[64 * 64];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) Math.sin(i * 0.37);
            }
            var m = org.nd4j.linalg.factory.Nd4j.create(a, new long[] {64, 64}, 'c');
            float[] c = m.mmul(m.transpose()).data().asFloat();
            StringBuilder bits = new StringBuilder("gemm");
            for (int i = 0; i < c.length; i += 97) {
                bits.append(' ').append(Integer.toHexString(Float.floatToRawIntBits(c[i])));
            }
            System.out.println(bits);
        }
    }
}
