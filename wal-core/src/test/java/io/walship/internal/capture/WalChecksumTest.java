package io.walship.internal.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The WAL checksum equals SQLite's definition, word by word, in both byte orders and across calls. */
class WalChecksumTest {
    /** SQLite's walChecksumBytes, as its source states it: one 32-bit word at a time. */
    private static int[] reference(byte[] bytes, ByteOrder order, int s1, int s2) {
        ByteBuffer words = ByteBuffer.wrap(bytes).order(order);
        for (int i = 0; i < bytes.length; i += 8) {
            s1 += words.getInt(i) + s2;
            s2 += words.getInt(i + 4) + s1;
        }
        return new int[] {s1, s2};
    }

    @Test
    void update_matchesSqlitesDefinition_inBothByteOrders_continuingFromEarlierCalls() {
        Random random = new Random(7);
        for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
            byte[] bytes = new byte[4096 + 24];
            random.nextBytes(bytes);
            WalChecksum checksum = new WalChecksum(order == ByteOrder.BIG_ENDIAN, 0x1234, -77);
            ByteBuffer buffer = ByteBuffer.allocate(bytes.length + 16).put(8, bytes); // at an offset
            checksum.update(buffer, 8, 24);
            checksum.update(buffer, 8 + 24, 4096);
            int[] expected = reference(bytes, order, 0x1234, -77);
            assertThat(new int[] {checksum.s1(), checksum.s2()}).as("%s", order).containsExactly(expected);
            assertThat(checksum.matches(expected[0], expected[1])).isTrue();
        }
    }
}
