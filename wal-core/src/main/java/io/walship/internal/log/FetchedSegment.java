package io.walship.internal.log;

import io.walship.storage.Storage;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A segment fetched from storage to be read, once or more: kept in memory up to a bound, else
 * streamed into a temporary file, so a segment of any size is read in bounded memory. Close it
 * to delete the file. Not thread-safe.
 */
public final class FetchedSegment implements Closeable {
    /** What one fetched segment may hold in memory unless the caller says otherwise. */
    public static final long DEFAULT_MEMORY_BYTES = 8L << 20;

    private final String key;
    private final SegmentBytes content;
    /** Readers skip every transaction up to here (a position inside a compacted object); -1: none. */
    private long startAfter = -1;

    private FetchedSegment(String key, SegmentBytes content) {
        this.key = key;
        this.content = content;
    }

    /** A segment already in memory (received from a primary's stream), named {@code key} in errors. */
    public static FetchedSegment inMemory(String key, byte[] bytes) {
        return new FetchedSegment(key, SegmentBytes.inMemory(bytes));
    }

    /**
     * Streams {@code key} from storage: into memory while it fits {@code memoryBytes}, else into a
     * new file in {@code spillDirectory}. Empty when storage does not hold the key.
     */
    public static Optional<FetchedSegment> fetch(Storage storage, String key, Path spillDirectory, long memoryBytes)
            throws IOException {
        Optional<InputStream> stream = storage.open(key);
        if (stream.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream in = stream.get()) {
            ByteArrayOutputStream memory = new ByteArrayOutputStream();
            byte[] buffer = new byte[64 << 10];
            long total = 0;
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                total += n;
                if (total > memoryBytes) {
                    return Optional.of(spill(key, memory, buffer, n, in, spillDirectory, total));
                }
                memory.write(buffer, 0, n);
            }
            return Optional.of(new FetchedSegment(key, SegmentBytes.inMemory(memory.toByteArray())));
        }
    }

    /** As {@link #fetch}, for a key that must exist: a missing segment is a gap in the log. */
    public static FetchedSegment require(Storage storage, String key, long expectedTxid, Path spillDirectory)
            throws IOException {
        return fetch(storage, key, spillDirectory, DEFAULT_MEMORY_BYTES)
                .orElseThrow(() -> io.walship.BadObjectException.txidGap(key, expectedTxid, -1));
    }

    private static FetchedSegment spill(String key, ByteArrayOutputStream memory, byte[] buffer, int n,
                                        InputStream rest, Path spillDirectory, long total) throws IOException {
        Path file = SegmentSpill.newFile(spillDirectory, "fetched-");
        try (OutputStream out = Files.newOutputStream(file)) {
            memory.writeTo(out);
            out.write(buffer, 0, n);
            long length = total + rest.transferTo(out);
            return new FetchedSegment(key, SegmentBytes.inFile(file, length));
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
    }

    public String key() {
        return key;
    }

    /** Size of the stored object in bytes. */
    public long length() {
        return content.length();
    }

    /** True when it went to a file. */
    public boolean spilled() {
        return content.file().isPresent();
    }

    /**
     * Makes every reader {@link #open} hands out start after {@code txid}, when this object begins
     * before it (a compacted object read from inside); see {@link SegmentReader#skipThrough}.
     */
    public FetchedSegment startAfter(long txid) {
        this.startAfter = txid;
        return this;
    }

    /**
     * Its header alone, unchecked beyond its own fields (the whole object is checked when
     * {@link #open opened}): which txids it holds, without hashing it.
     */
    public SegmentHeader header() throws IOException {
        return SegmentHeader.parse(key, content.head(FormatLayout.SEGMENT_HEADER_SIZE), content.length());
    }

    /** A new reader; checks the whole object before handing anything out. Close the reader after use. */
    public SegmentReader open() throws IOException {
        SegmentReader reader = content.open(key);
        if (startAfter >= reader.firstTxid() && startAfter < reader.lastTxid()) {
            try {
                reader.skipThrough(startAfter);
            } catch (IOException | RuntimeException e) {
                reader.close();
                throw e;
            }
        }
        return reader;
    }

    @Override
    public void close() {
        try {
            content.deleteFile();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the spill file of " + key + " (" + content + ")", e);
        }
    }
}
