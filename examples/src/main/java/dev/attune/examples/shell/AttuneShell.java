package dev.attune.examples.shell;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * JShell with Attune on the class path and its packages imported: {@code attune shell} starts it on the terminal,
 * {@code attune shell FILE.jsh} runs a script (the walkthrough in {@code examples/walkthrough.jsh}).
 *
 * <p>JShell runs as a child process ({@code $JAVA_HOME/bin/jshell}); its class path is this JVM's, with the jars that
 * jar manifests name (the {@code attune} jar's {@code lib/}, Maven Surefire's booter jar) written out, because
 * JShell's compiler is given the list it is given.
 */
public final class AttuneShell {

    /** The startup script's resource: the imports a session begins with. */
    static final String STARTUP = "/dev/attune/examples/shell/startup.jsh";

    private AttuneShell() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        System.exit(run(args.length == 0 ? null : Path.of(args[0]), List.of()));
    }

    /**
     * The jshell command line.
     *
     * @param script  a {@code .jsh} file to run (it should end with {@code /exit}); null for an interactive session
     * @param jvmArgs options for the JVM that runs the snippets (e.g. {@code -Xmx4g})
     */
    public static List<String> command(Path script, List<String> jvmArgs) throws IOException {
        Path startup = Files.createTempFile("attune-startup", ".jsh");
        startup.toFile().deleteOnExit();
        try (InputStream in = AttuneShell.class.getResourceAsStream(STARTUP)) {
            if (in == null) {
                throw new IOException("the startup script " + STARTUP + " is missing from the class path");
            }
            Files.write(startup, in.readAllBytes());
        }
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        if (!Files.isExecutable(jshell)) {
            throw new IOException("jshell not found at " + jshell + ": Attune's shell needs a JDK, not a JRE");
        }
        List<String> cmd = new ArrayList<>(List.of(jshell.toString(), "--class-path",
                String.join(File.pathSeparator, classPath()), "--startup", "DEFAULT", "--startup",
                startup.toString()));
        for (String a : jvmArgs) {
            cmd.add("-R" + a);
        }
        if (script != null) {
            if (!Files.isRegularFile(script)) {
                throw new java.nio.file.NoSuchFileException(script.toString(), null, "JShell script not found");
            }
            cmd.add(script.toString());
        }
        return cmd;
    }

    /** Runs jshell on this terminal (or the script) and returns its exit code. */
    public static int run(Path script, List<String> jvmArgs) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command(script, jvmArgs)).inheritIO().start();
        return p.waitFor();
    }

    /** This JVM's class path with manifest Class-Path entries expanded, in order, without duplicates. */
    static List<String> classPath() throws IOException {
        Set<String> out = new LinkedHashSet<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                expand(Path.of(entry).toAbsolutePath().normalize(), out);
            }
        }
        return List.copyOf(out);
    }

    private static void expand(Path entry, Set<String> out) throws IOException {
        // manifests may name jars that are not there (ND4J's name optional ones); JShell warns about each
        if (!Files.exists(entry) || !out.add(entry.toString()) || !entry.toString().endsWith(".jar")) {
            return;
        }
        Manifest manifest;
        try (JarFile jar = new JarFile(entry.toFile())) {
            manifest = jar.getManifest();
        }
        String classPath = manifest == null ? null : manifest.getMainAttributes().getValue("Class-Path");
        if (classPath == null) {
            return;
        }
        for (String item : classPath.trim().split("\\s+")) {
            if (item.isEmpty()) {
                continue;
            }
            Path p;
            try {
                URI uri = entry.getParent().toUri().resolve(item);
                p = Path.of(uri);
            } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
                continue; // not a file URL: nothing JShell could read
            }
            expand(p.toAbsolutePath().normalize(), out);
        }
    }
}
