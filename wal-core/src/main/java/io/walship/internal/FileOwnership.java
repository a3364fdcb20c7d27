package io.walship.internal;

import io.walship.DatabaseLockedException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * An exclusive lock on {@code <db>-walship.lock}: held by the one primary or replica that owns
 * a database file, across processes ({@code fcntl}) and within this JVM. The lock file is
 * separate from the database so that locking it can never disturb SQLite's own locks.
 */
public final class FileOwnership implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private FileOwnership(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** @throws DatabaseLockedException when another primary or replica owns the file */
    public static FileOwnership acquire(Path database) throws IOException {
        Path lockFile = database.resolveSibling(database.getFileName() + "-walship.lock");
        FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw new DatabaseLockedException(database, lockFile);
        }
        return new FileOwnership(channel, lock);
    }

    /**
     * Temporary files walship writes beside a database, which a killed process leaves behind: a
     * snapshot being written ({@code <db>-walship-snapshot-<txid>}, and its encrypted copy with
     * {@code .sealed} after it) and a restore in progress
     * ({@code <db>.walship-restore}). Nothing else names files so.
     */
    private static final String LEFTOVER = "(-walship-snapshot-\\d+(" + Pattern.quote(FileDurability.SEALED_SUFFIX)
            + ")?|\\.walship-restore)";

    /**
     * Deletes what a killed owner of {@code database} left beside it (see {@link #LEFTOVER}); only
     * the owner calls it, so no live writer of those files exists. Returns how many were deleted.
     */
    public int removeLeftovers(Path database) throws IOException {
        Pattern leftover = Pattern.compile(Pattern.quote(database.getFileName().toString()) + LEFTOVER);
        int removed = 0;
        try (Stream<Path> siblings = Files.list(database.toAbsolutePath().getParent())) {
            for (Path file : (Iterable<Path>) siblings::iterator) {
                if (leftover.matcher(file.getFileName().toString()).matches() && Files.isRegularFile(file)
                        && Files.deleteIfExists(file)) {
                    removed++;
                }
            }
        }
        return removed;
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
