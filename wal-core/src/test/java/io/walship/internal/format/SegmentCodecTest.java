package io.walship.internal.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.CorruptObjectException;
import io.walship.UnsupportedFormatException;
import io.walship.format.FormatLayout;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jpountz.xxhash.XXHashFactory;
import org.junit.jupiter.api.Test;

class SegmentCodecTest {
    private static final int PAGE = 1024;
    private static final String KEY = "log/0000000000000005";

    static Transaction txn(long txid, int databasePages, int... pgnos) {
        byte[] images = new byte[pgnos.length * PAGE];
        new Random(txid).nextBytes(images);
        return new Transaction(txid, 1_700_000_000_000L + txid, databasePages, PAGE, pgnos, images, txid * 31);
    }

    static byte[] segment() {
        return Transaction.segment(PAGE, 99, txn(5, 10, 1, 2, 3), txn(6, 12, 12), txn(7, 12));
    }

    static List<Transaction> readAll(SegmentReader reader) {
        return Transaction.readAll(reader);
    }

    /** Rewrites the trailer so a deliberately edited object passes the whole-object checksum. */
    static byte[] resealed(byte[] bytes) {
        byte[] copy = bytes.clone();
        long hash = XXHashFactory.fastestInstance().hash64().hash(copy, 0, copy.length - 8, 0);
        ByteBuffer.wrap(copy).putLong(copy.length - 8, hash);
        return copy;
    }

    @Test
    void read_writtenSegment_returnsSameTransactions() {
        SegmentReader reader = SegmentReader.open(KEY, segment());

        assertThat(reader.firstTxid()).isEqualTo(5);
        assertThat(reader.lastTxid()).isEqualTo(7);
        assertThat(reader.pageSize()).isEqualTo(PAGE);
        assertThat(reader.checksumBefore()).isEqualTo(99);
        List<Transaction> txns = readAll(reader);
        assertThat(txns).hasSize(3);
        Transaction expected = txn(5, 10, 1, 2, 3);
        assertThat(txns.get(0).pageImages()).isEqualTo(expected.pageImages());
        assertThat(txns.get(0).commitMillis()).isEqualTo(expected.commitMillis());
        assertThat(txns.get(1).pgno(0)).isEqualTo(12);
        assertThat(txns.get(1).databasePages()).isEqualTo(12);
        assertThat(txns.get(2).pageCount()).isZero();
        assertThat(txns.get(2).checksumAfter()).isEqualTo(7 * 31);
    }

    @Test
    void read_truncatedSegment_throwsCorruptObject() {
        byte[] bytes = segment();
        for (int length : new int[] {0, 3, 10, 47, 60, bytes.length / 2, bytes.length - 1}) {
            byte[] truncated = Arrays.copyOf(bytes, length);
            assertThatThrownBy(() -> readAll(SegmentReader.open(KEY, truncated)))
                    .as("length %d", length)
                    .isInstanceOf(CorruptObjectException.class)
                    .hasMessageContaining("key=" + KEY);
        }
    }

    @Test
    void read_flippedBit_throwsCorruptObjectBeforeAnyTransaction() {
        byte[] bytes = segment();
        for (int i = 0; i < bytes.length; i++) {
            byte[] damaged = bytes.clone();
            damaged[i] ^= (byte) (1 << (i % 8));
            int at = i;
            assertThatThrownBy(() -> SegmentReader.open(KEY, damaged)).as("bit flipped at %d", at)
                    .isInstanceOfAny(CorruptObjectException.class, UnsupportedFormatException.class);
        }
    }

    @Test
    void read_unknownVersion_throwsUnsupportedFormat() {
        byte[] bytes = segment();
        ByteBuffer.wrap(bytes).putShort(FormatLayout.VERSION_OFFSET, (short) 2);

        assertThatThrownBy(() -> SegmentReader.open(KEY, bytes))
                .isInstanceOf(UnsupportedFormatException.class)
                .hasMessageContaining("found=2 supported=1")
                .hasMessageContaining("key=" + KEY);
    }

    @Test
    void read_foreignObject_throwsCorruptObjectNamingMagic() {
        byte[] bytes = "SQLite format 3\0 and then some more bytes to look like a file............".getBytes();

        assertThatThrownBy(() -> SegmentReader.open(KEY, bytes))
                .isInstanceOf(CorruptObjectException.class)
                .hasMessageContaining("not a walship segment");
    }

    @Test
    void read_headerLyingAboutTxids_throwsCorruptObject() {
        byte[] bytes = segment();
        ByteBuffer.wrap(bytes).putLong(FormatLayout.SEGMENT_LAST_TXID_OFFSET, 8);
        byte[] sealed = resealed(bytes);

        assertThatThrownBy(() -> SegmentReader.open(KEY, sealed))
                .isInstanceOf(CorruptObjectException.class)
                .hasMessageContaining("inconsistent header");
    }

    @Test
    void read_hugeDeclaredBody_isRejectedBeforeAllocation() {
        byte[] bytes = segment();
        ByteBuffer.wrap(bytes).putLong(FormatLayout.SEGMENT_RAW_BODY_BYTES_OFFSET, Long.MAX_VALUE / 2);
        byte[] sealed = resealed(bytes);

        assertThatThrownBy(() -> SegmentReader.open(KEY, sealed))
                .isInstanceOf(CorruptObjectException.class)
                .hasMessageContaining("raw body length out of range");
    }

    @Test
    void write_nonConsecutiveTxids_isRejected() throws Exception {
        SegmentWriter writer = new SegmentWriter(PAGE, 0);
        txn(1, 1, 1).writeTo(writer);

        assertThatThrownBy(() -> txn(3, 1, 1).writeTo(writer)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not follow");
    }

    @Test
    void write_beyondTheMemoryBudget_spillsToAFileThatReadsTheSame(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        SegmentSpill spill = new SegmentSpill(dir, 0);
        SegmentWriter writer = new SegmentWriter(PAGE, 99, null, spill);
        for (Transaction txn : List.of(txn(5, 10, 1, 2, 3), txn(6, 12, 12), txn(7, 12))) {
            txn.writeTo(writer);
        }
        try (SealedSegment sealed = writer.seal()) {
            assertThat(sealed.file()).isPresent();
            assertThat(java.nio.file.Files.readAllBytes(sealed.file().get())).as("the same bytes as in memory")
                    .isEqualTo(segment());
            try (SegmentReader reader = sealed.open(KEY)) {
                assertThat(readAll(reader)).hasSize(3);
            }
            assertThat(sealed.sameContent(new java.io.ByteArrayInputStream(segment()))).isTrue();
            byte[] other = segment();
            other[60] ^= 1;
            assertThat(sealed.sameContent(new java.io.ByteArrayInputStream(other))).isFalse();
            assertThat(sealed.sameContent(new java.io.ByteArrayInputStream(java.util.Arrays.copyOf(other, 80))))
                    .isFalse();
        }
        assertThat(spill.reservedBytes()).isZero();
        try (var files = java.nio.file.Files.list(dir)) {
            assertThat(files).as("the spill file is gone once closed").isEmpty();
        }
    }

    @Test
    void read_fromAFile_checksTheWholeObjectFirst(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        byte[] bytes = segment();
        bytes[bytes.length - 20] ^= 1;
        java.nio.file.Path file = dir.resolve("segment");
        java.nio.file.Files.write(file, bytes);

        assertThatThrownBy(() -> SegmentReader.open(KEY, file)).isInstanceOf(CorruptObjectException.class)
                .hasMessageContaining("object checksum mismatch");
    }

    @Test
    void write_isDeterministic() {
        assertThat(segment()).isEqualTo(segment());
    }
}
