package io.walship.storage.fs;

import io.walship.internal.ChannelIo;
import io.walship.internal.DirectIo;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The temporary file an object is written into, and forced, before {@link FileSystemStorage}
 * links it under its key.
 *
 * <p>Objects of {@link #DIRECT_MIN_BYTES} or more (segments of an ASYNC primary, compacted
 * objects, snapshots) go around the page cache where the file system allows it
 * ({@link DirectIo}): they are forced at once and read back rarely, and copying them into the
 * cache was most of the upload lane's CPU on the bench VM (bench/PROFILE.md section 17). The
 * bytes are gathered into aligned blocks of {@link #BLOCK_BYTES}; the last block is padded with
 * zeros to the alignment and the file cut back to the object's length before it is forced.
 * Smaller objects (a DURABLE primary's single transactions) are written through the cache: a
 * direct write of a few KiB took as long as a buffered one, and they are the objects a
 * follower reads soonest. A direct write the file system refuses is written again through the
 * cache, and the rest of the object with it; a disk that is really failing fails that write too.
 *
 * <p>Not thread-safe: one per put.
 */
final class ObjectFile implements Closeable {
    /** Objects this large or larger are written with direct writes where the file system takes them. */
    static final long DIRECT_MIN_BYTES = 64 << 10;
    /** The blocks direct writes are gathered into (a multiple of {@link DirectIo#ALIGNMENT}). */
    static final int BLOCK_BYTES = 1 << 20;
    /** Blocks kept between puts, at most four; more concurrent puts allocate and drop their own. */
    private static final BlockingQueue<ByteBuffer> POOL = new ArrayBlockingQueue<>(4);
    private static final Logger log = LoggerFactory.getLogger(ObjectFile.class);

    private final Path path;
    /** Open while writing around the cache; null once (or if) writing through it. */
    private FileChannel direct;
    /** The same file through the page cache; opened when first needed. */
    private FileChannel cached;
    /** Where bytes are gathered for the next direct write; null when never direct. */
    private ByteBuffer block;
    /** The object's bytes written to the file so far (whole blocks, while direct). */
    private long written;

    /** Writes into {@code path} through {@code direct} (null: through the cache); {@link #create} in production. */
    ObjectFile(Path path, FileChannel direct) {
        this.path = path;
        this.direct = direct;
        if (direct != null) {
            ByteBuffer pooled = POOL.poll();
            block = pooled != null ? pooled.clear() : DirectIo.allocateAligned(BLOCK_BYTES);
        }
    }

    /**
     * Creates the file {@code path} (a name nobody else uses) for an object of {@code bytes}.
     *
     * @throws IOException the file cannot be created (no space, no permission)
     */
    static ObjectFile create(Path path, long bytes) throws IOException {
        FileChannel direct = bytes >= DIRECT_MIN_BYTES
                ? DirectIo.open(path, BLOCK_BYTES, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
                : null;
        ObjectFile file = new ObjectFile(path, direct);
        if (direct == null) {
            file.cached(); // a refused direct open may have created it already: CREATE, not CREATE_NEW
        }
        return file;
    }

    /** True while the object goes around the page cache. */
    boolean direct() {
        return direct != null;
    }

    /** Appends {@code length} bytes of {@code bytes} from {@code offset}. */
    void write(byte[] bytes, int offset, int length) throws IOException {
        while (length > 0 && direct != null) {
            int n = Math.min(length, block.remaining());
            block.put(bytes, offset, n);
            offset += n;
            length -= n;
            if (!block.hasRemaining()) {
                writeBlock();
            }
        }
        if (length > 0) {
            ChannelIo.writeFully(cached(), ByteBuffer.wrap(bytes, offset, length), written);
            written += length;
        }
    }

    /** Appends the whole file {@code source}. */
    void copyFrom(Path source) throws IOException {
        try (FileChannel from = FileChannel.open(source, StandardOpenOption.READ)) {
            long size = from.size();
            long position = 0;
            while (direct != null) {
                int n = from.read(block, position);
                if (n < 0) {
                    return;
                }
                position += n;
                if (!block.hasRemaining()) {
                    writeBlock();
                }
            }
            while (position < size) { // through the cache, in the kernel
                long n = from.transferTo(position, size - position, cached().position(written));
                if (n <= 0) {
                    return; // the file ended early: it is stored as it is
                }
                position += n;
                written += n;
            }
        }
    }

    /**
     * Writes what is gathered, cuts the file to the object's length and forces it (data and
     * length; the caller forces the directory after linking it).
     */
    void finish() throws IOException {
        if (direct != null && block.position() > 0) {
            int length = block.position();
            int padded = (length + DirectIo.ALIGNMENT - 1) & -DirectIo.ALIGNMENT;
            while (block.position() < padded) {
                block.put((byte) 0);
            }
            block.flip();
            if (!writeDirect()) {
                ChannelIo.writeFully(cached(), block.limit(length), written);
            }
            written += length;
        }
        if (direct != null) {
            direct.truncate(written); // the zeros after the object's last byte
            direct.force(false);
        }
        if (cached != null) {
            cached.truncate(written); // what a refused direct write may have left past the end
            cached.force(false);
        }
    }

    /** Writes the full block directly, or through the cache when the file system refuses. */
    private void writeBlock() throws IOException {
        block.flip();
        if (!writeDirect()) {
            ChannelIo.writeFully(cached(), block, written);
        }
        written += BLOCK_BYTES;
        block.clear();
    }

    /**
     * True once the (flipped) block is written directly at {@link #written}; false when the file
     * system refused, and from then on the object goes through the cache.
     */
    private boolean writeDirect() throws IOException {
        try {
            ChannelIo.writeFully(direct, block.duplicate(), written);
            return true;
        } catch (IOException refused) {
            log.info("a direct write failed, writing through the page cache from here on file={} error={}",
                    path, refused.toString());
            direct.close();
            direct = null;
            return false;
        }
    }

    private FileChannel cached() throws IOException {
        if (cached == null) {
            cached = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        }
        return cached;
    }

    /** Closes the file (without forcing it) and keeps the block for the next put. */
    @Override
    public void close() throws IOException {
        if (block != null) {
            POOL.offer(block); // dropped when four are kept already
            block = null;
        }
        try (FileChannel d = direct; FileChannel c = cached) {
            direct = null;
            cached = null;
        }
    }
}
