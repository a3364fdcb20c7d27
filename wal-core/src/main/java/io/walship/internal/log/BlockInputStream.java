package io.walship.internal.log;

import io.walship.BadObjectException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Reads a block stream written by {@link BlockOutputStream}. Every length is checked against
 * its bound before anything is allocated, and the safe LZ4 decoder is used, so hostile input
 * ends in {@link BadObjectException} (CORRUPT), never in an out-of-memory error or a crash.
 * End of the underlying stream before the end block is a truncation.
 */
final class BlockInputStream extends InputStream {
    private static final LZ4SafeDecompressor DECOMPRESSOR = LZ4Factory.fastestInstance().safeDecompressor();
    private static final int MAX_COMPRESSED =
            LZ4Factory.fastestInstance().fastCompressor().maxCompressedLength(FormatLayout.MAX_BLOCK_RAW_BYTES);

    private final InputStream in;
    private final String key;
    /** Where grown buffers are kept for the next reader, or null. */
    private final CompressionBuffers buffers;
    private final byte[] header = new byte[FormatLayout.BLOCK_HEADER_SIZE];
    private byte[] compressed = new byte[0];
    private byte[] raw = new byte[0];
    private int rawLength;
    private int position;
    private long offset;
    private boolean ended;

    /** @param offset where the block stream starts in the object, for error messages */
    BlockInputStream(InputStream in, String key, long offset) {
        this(in, key, offset, null);
    }

    /**
     * As {@link #BlockInputStream(InputStream, String, long)}, decompressing into {@code buffers}'
     * raw and compressed arrays, and leaving them there grown, for whoever borrows them next.
     */
    BlockInputStream(InputStream in, String key, long offset, CompressionBuffers buffers) {
        this.in = in;
        this.key = key;
        this.offset = offset;
        this.buffers = buffers;
        if (buffers != null) {
            this.raw = buffers.raw;
            this.compressed = buffers.compressed;
        }
    }

    @Override
    public int read() throws IOException {
        if (!fill()) {
            return -1;
        }
        return raw[position++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, rawLength - position);
        System.arraycopy(raw, position, b, off, n);
        position += n;
        return n;
    }

    /**
     * Reads exactly {@code len} bytes or fails with a truncation error. A whole block that fits
     * in what is asked for is decompressed straight into {@code b}: a snapshot's blocks are whole
     * runs of pages, so a reader asking for many pages at once copies nothing.
     */
    void readFully(byte[] b, int off, int len) throws IOException {
        readFully(ByteBuffer.wrap(b), off, len);
    }

    /**
     * As {@link #readFully(byte[], int, int)}, into {@code target} from index {@code off} (its
     * position and limit are left alone); a direct buffer lets a restore write what it decompressed
     * without another copy.
     */
    void readFully(ByteBuffer target, int off, int len) throws IOException {
        while (len > 0) {
            if (position == rawLength && !ended) {
                int direct = readBlock(target, off, len);
                off += direct;
                len -= direct;
                continue;
            }
            if (!fill()) {
                throw BadObjectException.corrupt(key, "body ends early", offset);
            }
            int n = Math.min(len, rawLength - position);
            target.put(off, raw, position, n);
            position += n;
            off += n;
            len -= n;
        }
    }

    /** True once the end block has been read and every byte before it consumed. */
    boolean atEnd() throws IOException {
        return !fill();
    }

    private boolean fill() throws IOException {
        while (position == rawLength) {
            if (ended) {
                return false;
            }
            readBlock(null, 0, 0);
        }
        return true;
    }

    /**
     * Reads the next block: into {@code target} when it holds at most {@code room} bytes (returns
     * how many), else into this stream's buffer (returns 0).
     */
    private int readBlock(ByteBuffer target, int targetOffset, int room) throws IOException {
        readExactly(header, header.length, "block header");
        ByteBuffer h = ByteBuffer.wrap(header);
        int rawBytes = h.getInt(FormatLayout.BLOCK_RAW_LENGTH_OFFSET);
        int compressedBytes = h.getInt(FormatLayout.BLOCK_COMPRESSED_LENGTH_OFFSET);
        long blockOffset = offset;
        offset += header.length;
        if (rawBytes == 0 && compressedBytes == 0) {
            ended = true;
            rawLength = 0;
            position = 0;
            return 0;
        }
        if (rawBytes <= 0 || rawBytes > FormatLayout.MAX_BLOCK_RAW_BYTES) {
            throw BadObjectException.corrupt(key, "block raw length out of range: " + rawBytes, blockOffset);
        }
        if (compressedBytes <= 0 || compressedBytes > MAX_COMPRESSED) {
            throw BadObjectException.corrupt(key, "block compressed length out of range: " + compressedBytes,
                    blockOffset);
        }
        if (compressed.length < compressedBytes) {
            compressed = new byte[compressedBytes];
            if (buffers != null) {
                buffers.compressed = compressed;
            }
        }
        readExactly(compressed, compressedBytes, "block");
        offset += compressedBytes;
        boolean direct = target != null && rawBytes <= room;
        if (!direct && raw.length < rawBytes) {
            raw = new byte[rawBytes];
            if (buffers != null) {
                buffers.raw = raw;
            }
        }
        int n;
        try {
            n = direct ? DECOMPRESSOR.decompress(ByteBuffer.wrap(compressed), 0, compressedBytes, target, targetOffset,
                    rawBytes) : DECOMPRESSOR.decompress(compressed, 0, compressedBytes, raw, 0, rawBytes);
        } catch (LZ4Exception e) {
            throw BadObjectException.corrupt(key, "block does not decompress", blockOffset, e);
        }
        if (n != rawBytes) {
            throw BadObjectException.corrupt(key, "block decompressed to " + n + " bytes, header says " + rawBytes,
                    blockOffset);
        }
        rawLength = direct ? 0 : rawBytes;
        position = 0;
        return direct ? rawBytes : 0;
    }

    private void readExactly(byte[] buffer, int length, String what) throws IOException {
        int done = 0;
        while (done < length) {
            int n = in.read(buffer, done, length - done);
            if (n < 0) {
                throw BadObjectException.corrupt(key, "truncated in " + what, offset + done,
                        new EOFException());
            }
            done += n;
        }
    }
}
