package io.walship.internal.log;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import net.jpountz.lz4.LZ4Compressor;

/**
 * Writes the block stream of segments and snapshots: raw bytes are cut into blocks of at most
 * {@link FormatLayout#MAX_BLOCK_RAW_BYTES}, each LZ4-compressed independently (so blocks can be
 * decompressed in parallel) and framed by its raw and compressed lengths. {@link #finish()}
 * writes the empty block that ends the stream; it does not close the underlying stream.
 */
final class BlockOutputStream extends OutputStream {
    /** Buffers start small and double up to the block size, so a small segment costs little memory. */
    private static final int INITIAL_BUFFER_BYTES = 16 << 10;

    private final OutputStream out;
    private final int blockBytes;
    private final LZ4Compressor compressor;
    /** Where grown buffers are written back (borrowed ones go back to the pool grown); null: none. */
    private final CompressionBuffers buffers;
    private byte[] raw;
    private byte[] compressed = new byte[0];
    private int rawLength;
    private long totalRawBytes;
    private boolean finished;

    BlockOutputStream(OutputStream out) {
        this(out, FormatLayout.MAX_BLOCK_RAW_BYTES);
    }

    /**
     * Compresses in {@code buffers} as {@code compression} says, growing them there as blocks
     * need; they must not be shared while in use.
     */
    BlockOutputStream(OutputStream out, CompressionBuffers buffers, Compression compression) {
        this.out = out;
        this.blockBytes = FormatLayout.MAX_BLOCK_RAW_BYTES;
        this.compressor = buffers.compressor(compression);
        this.buffers = buffers;
        this.raw = buffers.raw;
        this.compressed = buffers.compressed;
    }

    BlockOutputStream(OutputStream out, int blockBytes) {
        if (blockBytes < 1 || blockBytes > FormatLayout.MAX_BLOCK_RAW_BYTES) {
            throw new IllegalArgumentException("block size out of range: " + blockBytes);
        }
        this.out = out;
        this.blockBytes = blockBytes;
        this.compressor = CompressionBuffers.defaultCompressor();
        this.buffers = null;
        this.raw = new byte[Math.min(blockBytes, INITIAL_BUFFER_BYTES)];
    }

    /** Makes room in the raw buffer: grows it while below the block size, else writes a block. */
    private void makeRoom() throws IOException {
        if (raw.length < blockBytes) {
            raw = java.util.Arrays.copyOf(raw, Math.min(blockBytes, raw.length * 2));
            if (buffers != null) {
                buffers.raw = raw;
            }
        } else {
            writeBlock();
        }
    }

    @Override
    public void write(int b) throws IOException {
        if (rawLength == raw.length) {
            makeRoom();
        }
        raw[rawLength++] = (byte) b;
        totalRawBytes++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            if (rawLength == raw.length) {
                makeRoom();
            }
            int n = Math.min(len, raw.length - rawLength);
            System.arraycopy(b, off, raw, rawLength, n);
            rawLength += n;
            totalRawBytes += n;
            off += n;
            len -= n;
        }
    }

    /** Copies {@code length} bytes at {@code offset} of {@code buffer} without moving its position. */
    void write(ByteBuffer buffer, int offset, int length) throws IOException {
        while (length > 0) {
            if (rawLength == raw.length) {
                makeRoom();
            }
            int n = Math.min(length, raw.length - rawLength);
            buffer.get(offset, raw, rawLength, n);
            rawLength += n;
            totalRawBytes += n;
            offset += n;
            length -= n;
        }
    }

    long totalRawBytes() {
        return totalRawBytes;
    }

    /** Writes pending bytes and the end-of-stream block. */
    void finish() throws IOException {
        if (!finished) {
            writeBlock();
            out.write(new byte[FormatLayout.BLOCK_HEADER_SIZE]); // raw length 0, compressed length 0
            finished = true;
        }
    }

    private void writeBlock() throws IOException {
        if (rawLength == 0) {
            return;
        }
        int needed = FormatLayout.BLOCK_HEADER_SIZE + compressor.maxCompressedLength(rawLength);
        if (compressed.length < needed) {
            compressed = new byte[needed];
            if (buffers != null) {
                buffers.compressed = compressed;
            }
        }
        int length = compressor.compress(raw, 0, rawLength, compressed, FormatLayout.BLOCK_HEADER_SIZE,
                compressed.length - FormatLayout.BLOCK_HEADER_SIZE);
        ByteBuffer.wrap(compressed, 0, FormatLayout.BLOCK_HEADER_SIZE).putInt(rawLength).putInt(length);
        out.write(compressed, 0, FormatLayout.BLOCK_HEADER_SIZE + length);
        rawLength = 0;
    }
}
