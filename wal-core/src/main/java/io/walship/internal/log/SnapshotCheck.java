package io.walship.internal.log;

import io.walship.BadObjectException;
import io.walship.storage.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * Reads a stored snapshot whole without writing it anywhere: its pages against the database
 * checksum its header records, and its whole-object checksum. What {@code walship verify} and a
 * compactor about to delete the older history a snapshot replaces need to know: that it restores.
 */
public final class SnapshotCheck {
    private SnapshotCheck() {
    }

    /** What a sound snapshot holds. */
    public record Checked(long txid, int pageSize, int pageCount, long databaseChecksum) {
    }

    /**
     * Streams {@code key} and checks it; empty when storage no longer holds it.
     *
     * @throws BadObjectException CORRUPT: the pages do not match its checksum, or it is truncated or damaged
     * @throws io.walship.BadObjectException UNSUPPORTED_FORMAT: a version this reader does not know
     */
    public static Optional<Checked> check(Storage storage, String key) throws IOException {
        Optional<InputStream> stream = storage.open(key);
        if (stream.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream in = stream.get()) {
            SnapshotReader reader = SnapshotReader.open(key, in);
            DatabaseChecksum checksum = new DatabaseChecksum(reader.pageSize());
            byte[] page = new byte[reader.pageSize()];
            for (int pgno = 1; pgno <= reader.pageCount(); pgno++) {
                reader.readPage(page, 0);
                checksum.setPage(pgno, page, 0);
            }
            reader.finish();
            if (checksum.value() != reader.databaseChecksum()) {
                throw BadObjectException.corrupt(key, "pages do not match the snapshot's own checksum", -1);
            }
            return Optional.of(new Checked(reader.txid(), reader.pageSize(), reader.pageCount(),
                    reader.databaseChecksum()));
        }
    }
}
