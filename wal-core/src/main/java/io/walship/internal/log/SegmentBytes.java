package io.walship.internal.log;

import io.walship.internal.ChannelIo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * A whole segment's bytes, in memory or, past a memory bound, in a file of its own: what the
 * writer seals ({@link SealedSegment}) and what a reader fetches ({@link FetchedSegment}), so both
 * sides read, store and delete a segment the same way whatever its size.
 */
final class SegmentBytes {
    private static final int STREAM_BUFFER = 64 << 10;

    private final byte[] bytes;
    private final Path file;
    private final long length;

    private SegmentBytes(byte[] bytes, Path file, long length) {
        this.bytes = bytes;
        this.file = file;
        this.length = length;
    }

    /** The whole segment in {@code bytes}. */
    static SegmentBytes inMemory(byte[] bytes) {
        return new SegmentBytes(bytes, null, bytes.length);
    }

    /** The whole segment in {@code file}, {@code length} bytes; the file is this segment's to delete. */
    static SegmentBytes inFile(Path file, long length) {
        return new SegmentBytes(null, file, length);
    }

    Optional<byte[]> bytes() {
        return Optional.ofNullable(bytes);
    }

    Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    long length() {
        return length;
    }

    /** A reader, which checks the whole object before handing anything out. */
    SegmentReader open(String key) throws IOException {
        return bytes != null ? SegmentReader.open(key, bytes) : SegmentReader.open(key, file);
    }

    /** The first {@code count} bytes (fewer when the segment is shorter), without reading the rest. */
    ByteBuffer head(int count) throws IOException {
        ByteBuffer head = ByteBuffer.allocate((int) Math.min(length, count));
        if (bytes != null) {
            head.put(bytes, 0, head.capacity());
        } else {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                ChannelIo.readFully(channel, head, 0);
            }
        }
        return head.flip();
    }

    /** The bytes as a stream, buffered. */
    InputStream newInputStream() throws IOException {
        return bytes != null ? new ByteArrayInputStream(bytes)
                : new BufferedInputStream(Files.newInputStream(file), STREAM_BUFFER);
    }

    /** Stores the bytes under {@code key}, create-only: from memory, or streamed from the file. */
    PutResult putIfAbsent(Storage storage, String key) {
        return file != null ? storage.putIfAbsent(key, file) : storage.putIfAbsent(key, bytes);
    }

    /** Deletes the file, if the bytes are in one. */
    void deleteFile() throws IOException {
        if (file != null) {
            Files.deleteIfExists(file);
        }
    }

    @Override
    public String toString() {
        return length + " bytes, " + (file != null ? "file " + file : "memory");
    }
}
