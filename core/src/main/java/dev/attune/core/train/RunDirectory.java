package dev.attune.core.train;

import dev.attune.core.io.AtomicFiles;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A training run's output directory, held by one run at a time.
 *
 * <p>{@link #open} takes an exclusive lock on the directory (the file {@value #LOCK_FILE}, holding the owner's pid,
 * host and start time): a second run on the same directory is refused, naming the owner. The lock is the operating
 * system's, so it goes away with the process that held it, however that process ended; a lock file left with an
 * owner in it is reported as stale and taken over. Then the directory is put in order (a directory replacement a
 * crash interrupted is completed or rolled back, temporary files of killed writes are deleted, see
 * {@link AtomicFiles#recover}) and the {@link Mode} decides what may already be there:
 * <ul>
 *   <li>{@link Mode#NEW}: nothing; a directory holding another run's files is refused, so two runs never mix;</li>
 *   <li>{@link Mode#RESUME}: the run to continue (the trainer checks that model, data and settings match it);</li>
 *   <li>{@link Mode#OVERWRITE}: an earlier run's files, which are deleted. Files no run writes are never deleted:
 *       a directory holding any (say {@code --out ~}) is refused.</li>
 * </ul>
 * {@link LmTraining} opens its output directory itself; open one yourself to write into it before training starts
 * (the {@code attune pretrain} command tokenizes the corpus into it) and hand it to
 * {@link LmTraining.Builder#runDirectory}. Closing releases the lock.
 */
public final class RunDirectory implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RunDirectory.class);

    /** The lock file's name inside the run directory. */
    public static final String LOCK_FILE = ".attune.lock";

    /** What the directory may hold when a run opens it. */
    public enum Mode {
        /** A new run: the directory must be absent or empty. */
        NEW,
        /** Continue the run the directory holds (its newest checkpoint), or start one if it holds none. */
        RESUME,
        /** A new run replacing the files an earlier run left. */
        OVERWRITE
    }

    /**
     * Names a training run writes at the top of its directory; OVERWRITE deletes nothing else. The {@code attune}
     * commands add the run record, the report page and evaluation results ({@code dev.attune.examples.report}).
     */
    private static final Pattern RUN_FILES = Pattern.compile(
            "metrics\\.jsonl|checkpoint-\\d+|best|model|adapter|corpus\\.bin|run\\.json|report\\.html|evaluations"
                    + "|\\..+\\.(tmp|new|old)-\\d+|\\..+\\.\\d+\\.tmp");

    private final Path path;
    private final Mode mode;
    private final FileChannel channel;
    private final FileLock lock;
    private final List<String> notes;
    private boolean closed;

    private RunDirectory(Path path, Mode mode, FileChannel channel, FileLock lock, List<String> notes) {
        this.path = path;
        this.mode = mode;
        this.channel = channel;
        this.lock = lock;
        this.notes = List.copyOf(notes);
    }

    /**
     * Creates (if needed), locks, repairs and checks the run directory {@code directory}.
     *
     * @throws IOException naming the problem: the path is a file or not writable, another run holds the directory
     *                     (with its pid and host), or the directory's content does not fit {@code mode}
     */
    public static RunDirectory open(Path directory, Mode mode) throws IOException {
        if (Files.exists(directory) && !Files.isDirectory(directory)) {
            throw new IOException("the output directory " + directory + " is a file, not a directory");
        }
        try {
            Files.createDirectories(directory);
        } catch (FileSystemException e) {
            throw new IOException("cannot create the output directory " + directory + ": " + reason(e), e);
        }
        Path lockFile = directory.resolve(LOCK_FILE);
        boolean wasRunDirectory = Files.exists(lockFile, LinkOption.NOFOLLOW_LINKS);
        FileChannel channel;
        try {
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (FileSystemException e) {
            throw new IOException("cannot write in the output directory " + directory + ": " + reason(e), e);
        }
        List<String> notes = new ArrayList<>();
        boolean ok = false;
        boolean locked = false;
        try {
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // held by another run in this same process
            }
            if (lock == null) {
                String owner = read(channel);
                throw new IOException("the output directory " + directory + " is in use by another run ("
                        + (owner.isEmpty() ? "owner unknown" : describe(owner)) + "); wait for it to end or choose "
                        + "another directory");
            }
            locked = true;
            String previous = read(channel);
            if (!previous.isEmpty()) {
                notes.add("took over a stale lock on " + directory + ": " + describe(previous)
                        + " ended without releasing it");
            }
            byte[] me = ("pid=" + ProcessHandle.current().pid() + "\nhost=" + host() + "\nstarted="
                    + Instant.now() + "\n").getBytes(StandardCharsets.UTF_8);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(me), 0);
            channel.force(true);

            notes.addAll(AtomicFiles.recover(directory));
            List<String> entries = entries(directory);
            switch (mode) {
                case NEW -> {
                    if (!entries.isEmpty()) {
                        throw new IOException("the output directory " + directory + " already holds files of "
                                + "another run (" + list(entries) + "); resume that run or overwrite it (--resume "
                                + "or --overwrite on the command line), or choose an empty directory");
                    }
                }
                case OVERWRITE -> {
                    List<String> foreign = entries.stream().filter(n -> !RUN_FILES.matcher(n).matches()).toList();
                    if (!wasRunDirectory && !foreign.isEmpty()) {
                        throw new IOException("the output directory " + directory + " holds files that no training "
                                + "run writes (" + list(foreign) + "); not deleting them: choose another directory or "
                                + "empty it yourself");
                    }
                    for (String n : entries) {
                        AtomicFiles.deleteTree(directory.resolve(n));
                    }
                    if (!entries.isEmpty()) {
                        notes.add("deleted the earlier run in " + directory + " (" + list(entries) + ")");
                    }
                }
                case RESUME -> {
                    // what is there is checked against the checkpoint by the trainer
                }
            }
            ok = true;
            notes.forEach(n -> LOG.warn("{}", n));
            return new RunDirectory(directory, mode, channel, lock, notes);
        } finally {
            if (!ok) {
                if (locked) {
                    channel.truncate(0); // refused, not crashed: the next run must not see a stale lock
                }
                channel.close(); // releases the lock if it was taken
            }
        }
    }

    /** The directory. */
    public Path path() {
        return path;
    }

    public Mode mode() {
        return mode;
    }

    /**
     * What opening did besides locking: a stale lock taken over, crash leftovers repaired, an old run deleted (each
     * also logged as a warning).
     */
    public List<String> notes() {
        return notes;
    }

    /** Releases the lock (and empties the lock file, so the next run does not report it as stale). */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (lock.isValid()) {
                channel.truncate(0);
                channel.force(true);
            }
        } finally {
            channel.close();
        }
    }

    private static List<String> entries(Path directory) throws IOException {
        try (Stream<Path> list = Files.list(directory)) {
            return list.map(p -> p.getFileName().toString()).filter(n -> !n.equals(LOCK_FILE)).sorted().toList();
        }
    }

    private static String list(List<String> names) {
        return names.size() <= 5 ? String.join(", ", names)
                : String.join(", ", names.subList(0, 5)) + " and " + (names.size() - 5) + " more";
    }

    private static String read(FileChannel channel) throws IOException {
        long size = Math.min(channel.size(), 4096);
        ByteBuffer buffer = ByteBuffer.allocate((int) size);
        while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) > 0) {
            // read it all
        }
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).trim();
    }

    /** "pid=1\nhost=h\nstarted=t" to "pid 1 on host h, started t". */
    private static String describe(String owner) {
        String pid = field(owner, "pid");
        String host = field(owner, "host");
        String started = field(owner, "started");
        return "pid " + pid + " on host " + host + (started.equals("?") ? "" : ", started " + started);
    }

    private static String field(String owner, String key) {
        for (String line : owner.split("\n")) {
            if (line.startsWith(key + "=")) {
                return line.substring(key.length() + 1).trim();
            }
        }
        return "?";
    }

    private static String host() {
        // the kernel's name first: InetAddress may wait on a DNS lookup
        try {
            String name = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
            if (!name.isEmpty()) {
                return name;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            String env = System.getenv("HOSTNAME");
            return env != null ? env : "unknown";
        }
    }

    private static String reason(FileSystemException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied" + (e.getFile() != null ? " (" + e.getFile() + ")" : "");
        }
        if (e instanceof java.nio.file.FileAlreadyExistsException) {
            return e.getFile() + " exists and is not a directory";
        }
        String r = e.getReason();
        return (r != null ? r : e.getClass().getSimpleName()) + (e.getFile() != null ? " (" + e.getFile() + ")" : "");
    }
}
