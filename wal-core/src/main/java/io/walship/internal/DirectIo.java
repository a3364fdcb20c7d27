package io.walship.internal;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes that go around the page cache (O_DIRECT): where walship writes a file that nobody
 * reads soon and that is forced anyway, a restored database's snapshot pages (DatabaseImage) and
 * large objects of file-system storage. Copying into the page cache costs a gigabyte a second of
 * CPU on a good day; on a VM that hands freed memory back to its host, each fresh cache page
 * costs a fault on first write as well, which made a 4 MiB object take 21 ms to put where a
 * direct write took 5 (bench/PROFILE.md sections 14 and 17). O_DIRECT alone does not make data
 * durable; the callers still force their channels.
 *
 * <p>A direct write's buffer address, file position and length must be multiples of the file
 * system's block size: walship aligns everything to {@link #ALIGNMENT} and only opens files
 * whose block size divides it.
 */
public final class DirectIo {
    private static final Logger log = LoggerFactory.getLogger(DirectIo.class);
    /** What buffers, positions and lengths of direct writes are aligned to. */
    public static final int ALIGNMENT = 4096;

    private DirectIo() {
    }

    /**
     * Opens {@code path} for direct writes of multiples of {@code unit} bytes (a multiple of
     * {@link #ALIGNMENT}, or a page size the file system's block size divides), or returns null
     * where that cannot be: a file system that refuses O_DIRECT (tmpfs on older kernels, some
     * FUSE mounts), blocks larger than {@code unit}, a JDK without the option, or any other
     * failure to open, which the caller's own open through the page cache then reports. A
     * refused open may still have created the file (the kernel creates it before it looks at
     * O_DIRECT), so that open must not insist on creating it anew.
     *
     * @param options how to open it besides {@code DIRECT} (WRITE, CREATE, ...)
     */
    public static FileChannel open(Path path, int unit, OpenOption... options) {
        try {
            Path existing = Files.exists(path) ? path : path.toAbsolutePath().getParent();
            long block = Files.getFileStore(existing).getBlockSize();
            if (block <= 0 || block > ALIGNMENT || unit % block != 0) {
                return null;
            }
            OpenOption[] direct = Arrays.copyOf(options, options.length + 1);
            direct[options.length] = ExtendedOpenOption.DIRECT;
            return FileChannel.open(path, direct);
        } catch (IOException | UnsupportedOperationException e) {
            log.debug("writing through the page cache file={} reason={}", path, e.toString());
            return null;
        }
    }

    /** A direct buffer of {@code bytes} whose address is a multiple of {@link #ALIGNMENT}. */
    public static ByteBuffer allocateAligned(int bytes) {
        return ByteBuffer.allocateDirect(bytes + ALIGNMENT).alignedSlice(ALIGNMENT).limit(bytes).slice();
    }
}
