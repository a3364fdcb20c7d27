package io.walship.internal.log;

import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * A finished segment ready to be stored: its bytes in memory, or in a temporary file when it
 * outgrew the {@link SegmentSpill} budget. Close it once stored to delete the file and give the
 * memory back. Not thread-safe.
 */
public final class SealedSegment implements Closeable {
    private final SegmentSpill spill;
    private final SegmentBytes content;
    private final long reservedBytes;
    private final long firstTxid;
    private final long lastTxid;
    private final long rawBodyBytes;
    private boolean closed;

    SealedSegment(SegmentSpill spill, SegmentBytes content, long reservedBytes, long firstTxid, long lastTxid,
                  long rawBodyBytes) {
        this.spill = spill;
        this.content = content;
        this.reservedBytes = reservedBytes;
        this.firstTxid = firstTxid;
        this.lastTxid = lastTxid;
        this.rawBodyBytes = rawBodyBytes;
    }

    /** The whole segment, when it is in memory. */
    public Optional<byte[]> bytes() {
        return content.bytes();
    }

    /** The file holding the whole segment, when it outgrew memory. */
    public Optional<Path> file() {
        return content.file();
    }

    /** Stores this segment under {@code key}, create-only: from memory, or streamed from its file. */
    public PutResult putIfAbsent(Storage storage, String key) {
        return content.putIfAbsent(storage, key);
    }

    /** Size of the stored object in bytes. */
    public long length() {
        return content.length();
    }

    public long firstTxid() {
        return firstTxid;
    }

    public long lastTxid() {
        return lastTxid;
    }

    /** Uncompressed size of the transaction records. */
    public long rawBodyBytes() {
        return rawBodyBytes;
    }

    /** A reader of this segment (memory or file). */
    public SegmentReader open(String key) throws IOException {
        return content.open(key);
    }

    /** True when {@code other} holds exactly this segment's bytes; reads it to its end or the first difference. */
    public boolean sameContent(InputStream other) throws IOException {
        try (InputStream mine = content.newInputStream();
             InputStream theirs = new BufferedInputStream(other, 64 << 10)) {
            byte[] a = new byte[64 << 10];
            byte[] b = new byte[a.length];
            while (true) {
                int n = mine.readNBytes(a, 0, a.length);
                int m = theirs.readNBytes(b, 0, n == 0 ? 1 : n);
                if (n != m || !Arrays.equals(a, 0, n, b, 0, m)) {
                    return false;
                }
                if (n == 0) {
                    return true;
                }
            }
        }
    }

    /** Deletes the file or gives the memory back; again does nothing. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        spill.release(reservedBytes);
        content.deleteFile();
    }

    @Override
    public String toString() {
        return "SealedSegment[txids " + firstTxid + ".." + lastTxid + ", " + content + "]";
    }
}
