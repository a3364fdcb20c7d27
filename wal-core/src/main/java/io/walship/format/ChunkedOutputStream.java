package io.walship.format;

import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/** Collects bytes in fixed-size chunks: growing never copies what was written. */
final class ChunkedOutputStream extends OutputStream {
    private static final int CHUNK_BYTES = 64 << 10;

    private final List<byte[]> chunks = new ArrayList<>();
    private byte[] current;
    private int position = CHUNK_BYTES;
    private long size;

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        while (len > 0) {
            if (position == CHUNK_BYTES) {
                current = new byte[CHUNK_BYTES];
                chunks.add(current);
                position = 0;
            }
            int n = Math.min(len, CHUNK_BYTES - position);
            System.arraycopy(b, off, current, position, n);
            position += n;
            off += n;
            len -= n;
            size += n;
        }
    }

    long size() {
        return size;
    }

    /** Copies everything written to {@code target} at {@code offset}. */
    void copyTo(byte[] target, int offset) {
        long left = size;
        for (byte[] chunk : chunks) {
            int n = (int) Math.min(left, CHUNK_BYTES);
            System.arraycopy(chunk, 0, target, offset, n);
            offset += n;
            left -= n;
        }
    }
}
