package io.walship.internal.capture;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * SQLite's WAL checksum: two 32-bit running sums over pairs of 32-bit words,
 * {@code s1 += x[i] + s2; s2 += x[i+1] + s1}, the words read in the byte order of the WAL.
 * Each frame's checksum continues from the previous frame's, so the chain proves that no frame
 * was lost, reordered or left over from an older WAL.
 */
final class WalChecksum {
    private final ByteOrder order;
    private ByteBuffer source;
    private ByteBuffer view;
    private int s1;
    private int s2;

    WalChecksum(boolean bigEndian, int s1, int s2) {
        this.order = bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        this.s1 = s1;
        this.s2 = s2;
    }

    /** Adds {@code length} bytes (a multiple of 8) of {@code buffer} at {@code offset}. */
    void update(ByteBuffer buffer, int offset, int length) {
        if (source != buffer) {
            source = buffer;
            view = buffer.duplicate().order(order); // one view per buffer, not one per call
            view.clear(); // absolute reads anywhere in the buffer, whatever its current limit
        }
        // one 8-byte read per pair of words (the capture lane checks every byte of the WAL)
        int a = s1;
        int b = s2;
        int end = offset + length;
        if (order == ByteOrder.BIG_ENDIAN) {
            for (int i = offset; i < end; i += 8) {
                long pair = view.getLong(i);
                a += (int) (pair >>> 32) + b;
                b += (int) pair + a;
            }
        } else {
            for (int i = offset; i < end; i += 8) {
                long pair = view.getLong(i);
                a += (int) pair + b;
                b += (int) (pair >>> 32) + a;
            }
        }
        s1 = a;
        s2 = b;
    }

    int s1() {
        return s1;
    }

    int s2() {
        return s2;
    }

    boolean matches(int expected1, int expected2) {
        return s1 == expected1 && s2 == expected2;
    }
}
