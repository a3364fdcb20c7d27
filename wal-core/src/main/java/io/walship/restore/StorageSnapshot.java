package io.walship.restore;

import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.SnapshotReader;
import io.walship.internal.log.SnapshotWriter;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.InstantSource;

/**
 * Builds a snapshot from what storage already holds (newest snapshot + the segments after it),
 * without the primary: restores into a scratch file, writes a snapshot of it and stores it
 * create-only. Shortens later restores; the primary keeps running meanwhile.
 */
public final class StorageSnapshot {
    private StorageSnapshot() {
    }

    /** What was built: the txid, and whether storage already had a snapshot there. */
    public record Result(long txid, int pageCount, boolean created) {
    }

    /**
     * Restores the newest state into {@code workDir}, stores a snapshot of it unless one exists at that txid, and
     * reports which.
     */
    public static Result build(Storage storage, Path workDir, InstantSource clock, Restore.Progress progress)
            throws IOException {
        Path scratch = Files.createTempFile(workDir, "walship-snapshot", ".db");
        Path object = Files.createTempFile(workDir, "walship-snapshot", ".bin");
        try {
            RestoreResult state = Restore.restoreInto(storage, scratch, RestoreTarget.latest(), progress);
            String key = ObjectKey.snapshot(state.txid());
            if (!storage.list(key).isEmpty()) { // keys are fixed-length: the prefix matches only this key
                return new Result(state.txid(), state.pageCount(), false);
            }
            try (FileChannel in = FileChannel.open(scratch, StandardOpenOption.READ);
                 OutputStream out = new BufferedOutputStream(Files.newOutputStream(object), 1 << 16)) {
                SnapshotWriter writer = new SnapshotWriter(out, state.pageSize(), state.pageCount(), state.txid(),
                        state.checksum(), clock.millis());
                ByteBuffer page = ByteBuffer.allocate(state.pageSize());
                for (int pgno = 1; pgno <= state.pageCount(); pgno++) {
                    page.clear();
                    while (page.hasRemaining()) {
                        if (in.read(page, (long) (pgno - 1) * state.pageSize() + page.position()) < 0) {
                            throw new IOException("scratch file ended at page " + pgno);
                        }
                    }
                    writer.writePage(page, 0);
                }
                writer.finish();
            }
            try (InputStream check = Files.newInputStream(object)) {
                SnapshotReader.open(key, check); // header sanity before it leaves the machine
            }
            boolean created = storage.putIfAbsent(key, object) == PutResult.CREATED;
            return new Result(state.txid(), state.pageCount(), created);
        } finally {
            Files.deleteIfExists(scratch);
            Files.deleteIfExists(object);
        }
    }
}
