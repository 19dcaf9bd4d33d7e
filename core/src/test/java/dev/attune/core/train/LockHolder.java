package dev.attune.core.train;

import java.nio.file.Path;

/** A separate process that holds a run directory until it is killed (for {@link RunDirectoryTest}). */
public final class LockHolder {

    private LockHolder() {
    }

    public static void main(String[] args) throws Exception {
        RunDirectory run = RunDirectory.open(Path.of(args[0]), RunDirectory.Mode.NEW);
        System.out.println("locked " + ProcessHandle.current().pid());
        System.out.flush();
        Thread.sleep(60_000); // killed by the test long before
        run.close();
    }
}
