package dev.attune.core.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.LinkOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes files so that a reader never sees half of one: the bytes go to a temporary file in the same directory,
 * are forced to disk, and the temporary file is renamed over the target.
 */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    /** Something that writes the whole content of a file to a stream. */
    @FunctionalInterface
    public interface Writer {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Something that writes the whole content of a file through a channel (and may seek back to patch it). */
    @FunctionalInterface
    public interface ChannelWriter {
        void writeTo(FileChannel channel) throws IOException;
    }

    /** Something that fills a directory with files. */
    @FunctionalInterface
    public interface DirectoryWriter {
        void writeTo(Path directory) throws IOException;
    }

    /**
     * Temporary files are created owner-only; the finished file gets the usual rw-r--r-- so other users and tools
     * (a Python process reading a checkpoint, say) can read it.
     */
    private static void shareable(Path file) throws IOException {
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(file,
                    PosixFilePermissions.fromString(Files.isDirectory(file) ? "rwxr-xr-x" : "rw-r--r--"));
        }
    }

    /** Writes {@code bytes} to {@code target} atomically. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, out -> out.write(bytes));
    }

    /** Runs {@code writer} into a temporary file next to {@code target}, then renames it over {@code target}. */
    public static void write(Path target, Writer writer) throws IOException {
        writeChannel(target, channel -> {
            OutputStream out = new java.io.BufferedOutputStream(java.nio.channels.Channels.newOutputStream(channel),
                    1 << 20);
            writer.writeTo(out);
            out.flush();
        });
    }

    /**
     * Like {@link #write(Path, Writer)} for writers that need the channel itself, e.g. to fill in a header once the
     * size of the content is known.
     */
    public static void writeChannel(Path target, ChannelWriter writer) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".tmp");
        shareable(tmp);
        boolean done = false;
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                writer.writeTo(channel);
                channel.force(true);
            }
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /**
     * Creates the directory {@code target} atomically: {@code writer} fills a temporary sibling directory
     * ({@code .name.tmp-N}), which is renamed to {@code .name.new-N} once complete, and then takes the place of
     * {@code target} (an existing {@code target} is first renamed to {@code .name.old-N} and deleted afterwards). A
     * crash leaves the old directory or the new one under the target's name, or a state that {@link #recover}
     * completes: a {@code .new-N} directory is always whole, a {@code .tmp-N} one never to be trusted.
     */
    public static void writeDirectory(Path target, DirectoryWriter writer) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path parent = absolute.getParent();
        String name = absolute.getFileName().toString();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + name + ".tmp-");
        String tag = tmp.getFileName().toString().substring(name.length() + 6); // the digits after ".name.tmp-"
        shareable(tmp);
        Path ready = parent.resolve("." + name + ".new-" + tag);
        Path old = null;
        boolean written = false;
        boolean done = false;
        try {
            writer.writeTo(tmp);
            Files.move(tmp, ready, StandardCopyOption.ATOMIC_MOVE);
            written = true;
            if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
                old = parent.resolve("." + name + ".old-" + tag);
                Files.move(absolute, old, StandardCopyOption.ATOMIC_MOVE);
            }
            try {
                Files.move(ready, absolute, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (old != null) {
                    Files.move(old, absolute, StandardCopyOption.ATOMIC_MOVE); // put the previous one back
                    old = null;
                }
                throw e;
            }
            done = true;
            forceDirectory(parent);
        } finally {
            if (!done) {
                deleteTree(written ? ready : tmp);
            }
            if (done && old != null) {
                deleteTree(old);
            }
        }
    }

    /** {@code .name.tmp-N}, {@code .name.new-N}, {@code .name.old-N}: the stages of {@link #writeDirectory}. */
    private static final Pattern STAGED = Pattern.compile("\\.(.+)\\.(tmp|new|old)-(\\d+)");
    /** What writeDirectory named its stages before the {@code .new} stage existed: {@code .name.N}, {@code .name.old.N}. */
    private static final Pattern LEGACY_TMP = Pattern.compile("\\.(.+)\\.(\\d+)");
    private static final Pattern LEGACY_OLD = Pattern.compile("\\.(.+)\\.old\\.(\\d+)");
    /** A temporary file of {@link #writeChannel}: {@code .name.N.tmp}. */
    private static final Pattern TEMP_FILE = Pattern.compile("\\..+\\.\\d+\\.tmp");

    /**
     * Puts {@code directory} back in order after a crash during {@link #writeDirectory} or {@link #write} in it:
     * a directory replacement cut short is completed when its new content was whole (or rolled back to the old
     * content when it was not), and the temporary files and directories of interrupted writes are deleted, in
     * {@code directory} and in its subdirectories one level down. Only for directories that one writer owns (a
     * training run's directory, held under its lock): a write in progress would look interrupted.
     *
     * @return what was done, one sentence an action (empty when nothing was left over)
     */
    public static List<String> recover(Path directory) throws IOException {
        List<String> done = new ArrayList<>();
        if (!Files.isDirectory(directory)) {
            return done;
        }
        Map<String, List<Path>> ready = new TreeMap<>();
        Map<String, List<Path>> old = new TreeMap<>();
        List<Path> unfinished = new ArrayList<>();
        List<Path> children = new ArrayList<>();
        try (Stream<Path> list = Files.list(directory)) {
            list.forEach(children::add);
        }
        for (Path p : children) {
            String n = p.getFileName().toString();
            boolean dir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
            Matcher m;
            if (!dir) {
                if (TEMP_FILE.matcher(n).matches()) {
                    unfinished.add(p);
                }
            } else if ((m = STAGED.matcher(n)).matches()) {
                switch (m.group(2)) {
                    case "new" -> ready.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(p);
                    case "old" -> old.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(p);
                    default -> unfinished.add(p);
                }
            } else if ((m = LEGACY_OLD.matcher(n)).matches()) {
                old.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(p);
            } else if ((m = LEGACY_TMP.matcher(n)).matches()) {
                unfinished.add(p);
            }
        }
        for (Map.Entry<String, List<Path>> e : ready.entrySet()) {
            Path target = directory.resolve(e.getKey());
            List<Path> candidates = newestFirst(e.getValue());
            Path keep = candidates.get(0);
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                Path displaced = directory.resolve("." + e.getKey() + ".old-0");
                deleteTree(displaced);
                Files.move(target, displaced, StandardCopyOption.ATOMIC_MOVE);
                old.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(displaced);
            }
            Files.move(keep, target, StandardCopyOption.ATOMIC_MOVE);
            done.add("completed the interrupted replacement of " + target + " with its new content");
            for (Path other : candidates.subList(1, candidates.size())) {
                unfinished.add(other);
            }
        }
        for (Map.Entry<String, List<Path>> e : old.entrySet()) {
            Path target = directory.resolve(e.getKey());
            List<Path> previous = newestFirst(e.getValue());
            int from = 0;
            if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                Files.move(previous.get(0), target, StandardCopyOption.ATOMIC_MOVE);
                done.add("restored " + target + " from before an interrupted replacement");
                from = 1;
            }
            for (Path p : previous.subList(from, previous.size())) {
                deleteTree(p);
            }
        }
        for (Path child : children) {
            if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS) && Files.exists(child)
                    && !child.getFileName().toString().startsWith(".")) {
                try (Stream<Path> inner = Files.list(child)) {
                    inner.filter(p -> TEMP_FILE.matcher(p.getFileName().toString()).matches()
                            && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).forEach(unfinished::add);
                }
            }
        }
        long bytes = 0;
        int removed = 0;
        for (Path p : unfinished) {
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                bytes += size(p);
                deleteTree(p);
                removed++;
            }
        }
        if (removed > 0) {
            done.add(String.format(Locale.ROOT, "removed %d temporary file%s of interrupted writes (%.1f MB) from %s",
                    removed, removed == 1 ? "" : "s", bytes / 1e6, directory));
        }
        return done;
    }

    private static List<Path> newestFirst(List<Path> paths) throws IOException {
        List<Path> sorted = new ArrayList<>(paths);
        Map<Path, Long> times = new HashMap<>();
        for (Path p : sorted) {
            times.put(p, Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis());
        }
        sorted.sort(Comparator.comparing((Path p) -> times.get(p)).reversed().thenComparing(Path::toString));
        return sorted;
    }

    private static long size(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    /** Deletes a file or a directory tree; absent paths are fine. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (java.util.stream.Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void forceDirectory(Path dir) {
        // makes the rename durable on Linux; some platforms cannot open a directory, which is fine
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // best effort
        }
    }
}
