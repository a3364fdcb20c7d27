package io.walship.internal.log;

import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * Lets the disk write what a restore has already written while the restore writes more.
 *
 * <p>Writing a snapshot fills the page cache much faster than a disk drains it, so without this
 * a restore spends its last part waiting in the final {@code fsync}: 1 GiB of random rows was
 * written in 0.64 s and then forced in 0.47 s, the disk idle during the first and the decoder
 * idle during the second (issue #32, part 4). After every {@link #EVERY_BYTES} written, a thread
 * of its own forces the file ({@code fdatasync}) while the writer goes on; the final force then
 * only has what came after the last one. Pages of a snapshot are written once each, so forcing
 * early writes nothing twice. The file is still proven on disk only by the caller's final
 * {@code force}, before it is renamed into place: this class only moves work earlier.
 *
 * <p>A failed background force is kept and thrown by {@link #written} or {@link #finish}: after a
 * failed {@code fsync} Linux may mark the pages clean, and the next {@code fsync} then reports
 * success for data that never reached the disk, so the final force alone cannot be trusted to
 * report it.
 *
 * <p>One force at a time; not thread-safe otherwise (the writer's thread calls every method).
 */
final class Writeback {
    /** Bytes written between background forces: 64 MiB, about a tenth of a second of a fast disk. */
    static final long EVERY_BYTES = 64L << 20;

    /** What forces the file: {@code fdatasync} of its channel, or a test's stand-in. */
    interface Force {
        void force() throws IOException;
    }

    private final Force force;
    private final long everyBytes;
    private long sinceForce;
    private Thread forcing;
    private volatile Exception failure;

    Writeback(FileChannel channel) {
        this(() -> channel.force(false), EVERY_BYTES);
    }

    Writeback(Force force, long everyBytes) {
        this.force = force;
        this.everyBytes = everyBytes;
    }

    /** Counts {@code bytes} just written; starts a background force when enough built up and none runs. */
    void written(long bytes) throws IOException {
        throwFailure();
        sinceForce += bytes;
        if (sinceForce < everyBytes || (forcing != null && forcing.isAlive())) {
            return; // a force still running covers part of it; the next call starts the next one
        }
        sinceForce = 0;
        forcing = new Thread(this::forceNow, "walship-restore-writeback");
        forcing.setDaemon(true);
        forcing.start();
    }

    private void forceNow() {
        try {
            force.force();
        } catch (IOException | RuntimeException e) {
            failure = e;
        }
    }

    /** Waits for the force in flight; throws what any background force met. */
    void finish() throws IOException {
        awaitForce();
        throwFailure();
    }

    /**
     * Waits for the force in flight, so that no thread touches the file once its owner closes it
     * (an abandoned restore deletes it next).
     */
    void awaitForce() {
        Thread running = forcing;
        if (running == null) {
            return;
        }
        boolean interrupted = false;
        while (running.isAlive()) {
            try {
                running.join();
            } catch (InterruptedException e) {
                interrupted = true; // a force cannot be stopped part-way; keep waiting, then restore the flag
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void throwFailure() throws IOException {
        Exception failed = failure;
        if (failed != null) {
            throw new IOException("forcing the restored file to disk failed; its pages cannot be trusted", failed);
        }
    }
}
