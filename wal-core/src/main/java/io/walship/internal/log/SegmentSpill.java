package io.walship.internal.log;

import io.walship.internal.FileDurability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where segments go once they outgrow memory: a budget of bytes that segments being built,
 * fetched or waiting for upload may hold in memory together, and a directory for the temporary
 * files of those that do not fit. Thread-safe.
 */
public final class SegmentSpill {
    /*
     * Memory is reserved in chunks as a segment grows and handed back when it is stored or
     * closed. A segment that asks for a chunk the budget cannot give moves what it holds to a
     * file and goes on there: its memory no longer grows with the transaction. The budget is not
     * a cap on the JVM's heap: a segment in memory is copied once when it is sealed (header,
     * body, trailer in one array), and each segment being built borrows compression buffers of
     * up to a block (see CompressionBuffers). A runtime's primaries each have a budget and share
     * one more (shared(long)): a chunk must fit in both, so many databases writing at once hold
     * no more than the runtime's, and one whose storage is down holds no more than its own.
     */
    /** The name every spill file ends with. */
    private static final String SUFFIX = ".walship-spill";

    private final Path directory;
    private final long memoryBytes;
    private final AtomicLong reserved = new AtomicLong();
    /** The budget this one shares with the other databases of a runtime; null: none. */
    private final SegmentSpill shared;

    /**
     * @param directory   created if missing; holds only files this class names ({@code *.walship-spill})
     * @param memoryBytes what segments may hold in memory together; 0 puts every segment in a file
     */
    public SegmentSpill(Path directory, long memoryBytes) {
        this(directory, memoryBytes, null);
    }

    /**
     * As {@link #SegmentSpill(Path, long)}, where memory must also fit in {@code shared}: the
     * budget of a whole runtime (see {@link #shared(long)}), so that many databases together hold
     * no more than it however many of them are writing.
     */
    public SegmentSpill(Path directory, long memoryBytes, SegmentSpill shared) {
        if (memoryBytes < 0) {
            throw new IllegalArgumentException("memoryBytes must be >= 0: " + memoryBytes);
        }
        this.directory = directory;
        this.memoryBytes = memoryBytes;
        this.shared = shared;
    }

    /** A budget of {@code memoryBytes} for many spills to share; it has no directory of its own. */
    public static SegmentSpill shared(long memoryBytes) {
        return new SegmentSpill(null, memoryBytes, null);
    }

    /** Everything in memory, unbounded: for small segments in tools and tests. */
    public static SegmentSpill memoryOnly() {
        return new SegmentSpill(null, Long.MAX_VALUE);
    }

    /** Takes {@code bytes} from the budget (and the shared one), or returns false when they do not fit. */
    boolean reserve(long bytes) {
        while (true) {
            long now = reserved.get();
            if (now + bytes > memoryBytes) {
                return false;
            }
            if (reserved.compareAndSet(now, now + bytes)) {
                break;
            }
        }
        if (shared != null && !shared.reserve(bytes)) {
            reserved.addAndGet(-bytes);
            return false;
        }
        return true;
    }

    void release(long bytes) {
        reserved.addAndGet(-bytes);
        if (shared != null) {
            shared.release(bytes);
        }
    }

    /** Bytes held in memory now. */
    public long reservedBytes() {
        return reserved.get();
    }

    /** The spill directory of a primary's database or a replica's file: {@code <file>-walship.spill}. */
    public static Path besideDatabase(Path database) {
        return database.resolveSibling(database.getFileName() + "-walship.spill");
    }

    /** A new empty temporary file in the spill directory. */
    Path newFile() throws IOException {
        return newFile(directory, "segment-");
    }

    /**
     * A new empty spill file named {@code <prefix>…<SUFFIX>} in {@code directory} (created if
     * missing), for every holder of spilled segments, so {@link #removeLeftovers(Path)} finds it.
     */
    public static Path newFile(Path directory, String prefix) throws IOException {
        Files.createDirectories(directory);
        return Files.createTempFile(directory, prefix, SUFFIX);
    }

    /** Deletes spill files a crashed process left behind; call before anything uses the directory. */
    public void removeLeftovers() throws IOException {
        if (directory != null) {
            removeLeftovers(directory);
        }
    }

    /** Deletes the spill files ({@code *.walship-spill}) in {@code directory}; owned by one process at a time. */
    public static void removeLeftovers(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            return;
        }
        // and their encrypted copies (FileDurability.sealedFile: the name, then its suffix)
        try (var files = Files.newDirectoryStream(directory, "*" + SUFFIX + "{," + FileDurability.SEALED_SUFFIX + "}")) {
            for (Path file : files) {
                Files.deleteIfExists(file);
            }
        }
    }

    @Override
    public String toString() {
        return "SegmentSpill[" + directory + ", memoryBytes=" + memoryBytes + ", reserved=" + reserved.get() + "]";
    }
}
