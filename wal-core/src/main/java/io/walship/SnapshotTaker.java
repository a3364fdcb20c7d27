package io.walship;

import io.walship.format.DatabaseChecksum;
import io.walship.format.SnapshotWriter;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Streams the primary's database at one txid into a snapshot file, without stopping writers.
 */
final class SnapshotTaker {
    /*
     * A page's image at txid T is its latest frame in the WAL up to T if there is one (the
     * overlay captured under the gate), else the page in the database file. While the snapshot
     * is read, walship does not checkpoint: the database file does not change and WAL frames
     * are only appended, never overwritten, so writers go on committing and the snapshot still
     * sees exactly T. The database checksum of what was read is compared with the captured one:
     * a mismatch means the file changed underneath (another process), and the snapshot is
     * discarded rather than stored.
     */
    private SnapshotTaker() {
    }

    static void write(Path target, CaptureLoop.SnapshotSource source, FileChannel database, FileChannel wal,
                      int pageSize, long createdMillis) throws IOException {
        DatabaseChecksum checksum = new DatabaseChecksum(pageSize);
        ByteBuffer page = ByteBuffer.allocate(pageSize);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(target), 1 << 16)) {
            SnapshotWriter writer = new SnapshotWriter(out, pageSize, source.pageCount(), source.txid(),
                    source.checksum(), createdMillis);
            for (int pgno = 1; pgno <= source.pageCount(); pgno++) {
                Long walOffset = source.walOffsets().get(pgno);
                page.clear();
                if (walOffset != null) {
                    readFully(wal, page, walOffset);
                } else {
                    readFully(database, page, (long) (pgno - 1) * pageSize);
                }
                checksum.setPage(pgno, page, 0);
                writer.writePage(page, 0);
            }
            writer.finish();
        }
        checksum.resize(source.pageCount());
        if (checksum.value() != source.checksum()) {
            throw new IOException("snapshot at txid " + source.txid() + " read checksum "
                    + Long.toHexString(checksum.value()) + " but captured " + Long.toHexString(source.checksum())
                    + ": the database changed while it was read");
        }
        try (FileChannel channel = FileChannel.open(target, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    /** Reads a page; bytes past the end of the file read as zeros, as SQLite does. */
    private static void readFully(FileChannel channel, ByteBuffer page, long position) throws IOException {
        while (page.hasRemaining()) {
            int n = channel.read(page, position + page.position());
            if (n < 0) {
                while (page.hasRemaining()) {
                    page.put((byte) 0);
                }
            }
        }
    }
}
