package dev.attune.core.engine;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Where JavaCPP found each native library in the last start, kept in a file so that the next start need not search
 * again.
 *
 * <p>Why: before loading a library JavaCPP looks for it under up to three file names, in its platform directory and
 * every parent package, with {@code getResource} and {@code getResources} across the whole class path, and most of
 * the names it tries (MKL's CPU variants such as {@code mkl_p4}, {@code libiomp5md}, older {@code gfortran}s) are in
 * no jar at all, so each of those scans every jar several times. With the launcher's 122 jars that search was about
 * half of ND4J's start (an {@code Engine.init()} of 3.2-3.3 s of CPU against 1.5-1.9 s with the lookups primed, three
 * runs each on a loaded machine). JavaCPP keeps the results of its searches in a map of its own
 * ({@code Loader.foundLibraries}: library name to the URLs it may load from, empty when there are none) and
 * consults it before searching; {@link #prime()} fills that map from the file before ND4J starts, so JavaCPP loads
 * the same files in the same order and only the search is skipped (a name with no URLs is not loaded, as it was not
 * before). The map is package-private in JavaCPP 1.5.7; when it cannot be reached, everything goes on as without a
 * file.
 *
 * <p>The file is used only when it was written under the same conditions: its key covers the class path (each
 * entry's absolute path, size and modification time; with {@code java -jar} that is the jar whose manifest names
 * the others), the directories of {@code java.library.path} and their modification times, the
 * {@code org.bytedeco.*} system properties (which library ND4J's BLAS is, for example) and the platform; and every
 * jar a found URL points into must still have the size and modification time it had. Otherwise it is ignored, and
 * rewritten after the start.
 */
final class NativeLookups {

    private static final String MAGIC = "attune-native-lookups 1";

    private final Path file;
    private final List<String> key;
    private Map<String, List<String>> primed = Map.of();

    NativeLookups(Path file, List<String> key) {
        this.file = file;
        this.key = key;
    }

    /**
     * Lookups kept in the file named by {@code setting}, for this JVM's class path and settings (make it after
     * setting the {@code org.bytedeco.*} properties), or null when the setting is blank or the key cannot be
     * written down (a line break in a path).
     */
    static NativeLookups forSetting(String setting) {
        if (setting == null || setting.isBlank()) {
            return null;
        }
        try {
            return new NativeLookups(Path.of(setting.trim()), List.copyOf(currentKey()));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Puts the kept lookups into JavaCPP's own map when the file matches this JVM. Call before anything loads a
     * library through JavaCPP. Returns the names put there; none when there is no file, it has another key, or
     * JavaCPP's map is not reachable; a name JavaCPP has already looked up keeps JavaCPP's result and is not
     * returned.
     */
    Set<String> prime() {
        Map<String, URL[]> found = javacppMap();
        if (found == null) {
            return Set.of();
        }
        Map<String, List<String>> kept = read();
        Map<String, URL[]> urls = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, List<String>> e : kept.entrySet()) {
                List<URL> list = new ArrayList<>();
                for (String u : e.getValue()) {
                    list.add(new URL(u));
                }
                urls.put(e.getKey(), list.toArray(new URL[0]));
            }
        } catch (MalformedURLException ex) {
            return Set.of();
        }
        Set<String> put = new TreeSet<>();
        for (Map.Entry<String, URL[]> e : urls.entrySet()) {
            if (found.putIfAbsent(e.getKey(), e.getValue()) == null) {
                put.add(e.getKey());
            }
        }
        primed = kept;
        return put;
    }

    /**
     * Writes JavaCPP's lookups so far to the file when they add to what it held (a first start, another key, a
     * command that loaded more libraries). Failures to write are ignored: the next start searches as JavaCPP does.
     */
    void save() {
        Map<String, URL[]> found = javacppMap();
        if (found == null) {
            return;
        }
        Map<String, List<String>> now = new TreeMap<>();
        try {
            for (Map.Entry<String, URL[]> e : found.entrySet()) {
                List<String> list = new ArrayList<>();
                for (URL u : e.getValue()) {
                    list.add(u.toString());
                }
                now.put(e.getKey(), list);
            }
        } catch (RuntimeException ex) {
            return; // changed under us by another thread loading a library: keep the old file
        }
        if (now.isEmpty() || primed.keySet().containsAll(now.keySet())) {
            return;
        }
        write(now);
    }

    /** The lookups in the file, or none when it is missing, unreadable, malformed or of another key. */
    Map<String, List<String>> read() {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Map.of();
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        int n = key.size();
        if (lines.size() < 1 + n || !lines.get(0).equals(MAGIC)) {
            return Map.of();
        }
        for (int i = 0; i < n; i++) {
            if (!lines.get(1 + i).equals("key\t" + key.get(i))) {
                return Map.of(); // written for another class path or other settings
            }
        }
        Map<String, List<String>> kept = new LinkedHashMap<>();
        for (String line : lines.subList(1 + n, lines.size())) {
            String[] f = line.split("\t", -1);
            if (f[0].equals("file") && f.length == 4) {
                if (!fingerprint(Path.of(f[1])).equals(f[2] + "\t" + f[3])) {
                    return Map.of(); // a jar (or library) that a found URL points into has changed
                }
            } else if (f[0].equals("lib") && f.length >= 2) {
                kept.put(f[1], List.of(f).subList(2, f.length));
            } else {
                return Map.of(); // one more key line (another class path) or a damaged file
            }
        }
        return kept;
    }

    /** Writes {@code lookups} with this JVM's key, through a temporary file so that no reader sees half of it. */
    void write(Map<String, List<String>> lookups) {
        StringBuilder text = new StringBuilder(MAGIC).append('\n');
        for (String line : key) {
            text.append("key\t").append(line).append('\n');
        }
        TreeSet<Path> files = new TreeSet<>();
        for (List<String> urls : lookups.values()) {
            for (String u : urls) {
                Path f = fileOf(u);
                if (f == null) {
                    return; // a URL whose file cannot be checked later: keep nothing rather than something stale
                }
                files.add(f);
            }
        }
        for (Path f : files) {
            text.append("file\t").append(f).append('\t').append(fingerprint(f)).append('\n');
        }
        for (Map.Entry<String, List<String>> e : lookups.entrySet()) {
            if (e.getKey().indexOf('\t') >= 0 || e.getKey().indexOf('\n') >= 0) {
                return;
            }
            text.append("lib\t").append(e.getKey());
            for (String u : e.getValue()) {
                text.append('\t').append(u);
            }
            text.append('\n');
        }
        Path tmp = file.resolveSibling(file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // nothing left to do: the next start searches as JavaCPP does
            }
        }
    }

    /**
     * What the lookups depend on besides the files they point into, one line per item; see the class comment. The
     * directories of {@code java.library.path} count with their modification times: JavaCPP falls back to them
     * for a library that no jar holds, so a library installed there later must not be hidden by a kept "none".
     */
    static List<String> currentKey() {
        List<String> k = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                Path p = Path.of(entry).toAbsolutePath();
                k.add("class path\t" + p + "\t" + fingerprint(p));
            }
        }
        for (String entry : System.getProperty("java.library.path", "").split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                File dir = new File(entry);
                k.add("library path\t" + entry + "\t" + (dir.isDirectory() ? dir.lastModified() : "missing"));
            }
        }
        for (String name : new TreeSet<>(System.getProperties().stringPropertyNames())) {
            if (name.startsWith("org.bytedeco.")) {
                k.add("property\t" + name + "=" + System.getProperty(name));
            }
        }
        for (String name : List.of("os.name", "os.arch", "sun.arch.abi", "java.vm.name")) {
            k.add("property\t" + name + "=" + System.getProperty(name, ""));
        }
        for (String line : k) {
            if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("a line break in a path or property: " + line);
            }
        }
        return k;
    }

    /** Size and modification time of a file ("missing" when there is none, "dir" for a directory). */
    static String fingerprint(Path p) {
        File f = p.toFile();
        if (f.isDirectory()) {
            return "dir\t0";
        }
        return f.isFile() ? f.length() + "\t" + f.lastModified() : "missing\t0";
    }

    /**
     * The local file a found URL depends on: the jar of a {@code jar:file:...!/...} URL, the file of a
     * {@code file:} URL (a library found on a path), or null for anything else.
     */
    static Path fileOf(String url) {
        String u = url;
        if (u.toLowerCase(Locale.ROOT).startsWith("jar:")) {
            int bang = u.indexOf("!/");
            if (bang < 0) {
                return null;
            }
            u = u.substring("jar:".length(), bang);
        }
        int fragment = u.indexOf('#'); // JavaCPP's "load under another name" suffix
        if (fragment >= 0) {
            u = u.substring(0, fragment);
        }
        if (!u.toLowerCase(Locale.ROOT).startsWith("file:")) {
            return null;
        }
        try {
            return Path.of(URI.create(u));
        } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            return null;
        }
    }

    /** JavaCPP's map of library name to the URLs it found, or null when this JavaCPP has none we can reach. */
    @SuppressWarnings("unchecked")
    static Map<String, URL[]> javacppMap() {
        try {
            Field f = Class.forName("org.bytedeco.javacpp.Loader").getDeclaredField("foundLibraries");
            f.setAccessible(true);
            Object map = f.get(null);
            return map instanceof Map<?, ?> ? (Map<String, URL[]>) map : null;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }
}
