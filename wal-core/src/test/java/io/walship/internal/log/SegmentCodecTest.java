package io.walship.internal.log;

import static io.walship.BadObjectException.Kind.CORRUPT;
import static io.walship.BadObjectException.Kind.UNSUPPORTED_FORMAT;
import static io.walship.testing.BadObjects.badObject;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
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
                    .is(badObject(CORRUPT))
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
                    .is(badObject(CORRUPT, UNSUPPORTED_FORMAT));
        }
    }

    @Test
    void read_unknownVersion_throwsUnsupportedFormat() {
        byte[] bytes = segment();
        ByteBuffer.wrap(bytes).putShort(FormatLayout.VERSION_OFFSET, (short) (FormatLayout.SEGMENT_FORMAT_VERSION + 1));

        assertThatThrownBy(() -> SegmentReader.open(KEY, bytes))
                .is(badObject(UNSUPPORTED_FORMAT))
                .hasMessageContaining("found=3 supported=2")
                .hasMessageContaining("key=" + KEY);
    }

    @Test
    void read_foreignObject_throwsCorruptObjectNamingMagic() {
        byte[] bytes = "SQLite format 3\0 and then some more bytes to look like a file............".getBytes();

        assertThatThrownBy(() -> SegmentReader.open(KEY, bytes))
                .is(badObject(CORRUPT))
                .hasMessageContaining("not a walship segment");
    }

    @Test
    void read_headerLyingAboutTxids_throwsCorruptObject() {
        byte[] bytes = segment();
        ByteBuffer.wrap(bytes).putLong(FormatLayout.SEGMENT_LAST_TXID_OFFSET, 8);
        byte[] sealed = resealed(bytes);

        assertThatThrownBy(() -> SegmentReader.open(KEY, sealed))
                .is(badObject(CORRUPT))
                .hasMessageContaining("inconsistent header");
    }

    @Test
    void read_hugeDeclaredBody_isRejectedBeforeAllocation() {
        byte[] bytes = segment();
        ByteBuffer.wrap(bytes).putLong(FormatLayout.SEGMENT_RAW_BODY_BYTES_OFFSET, Long.MAX_VALUE / 2);
        byte[] sealed = resealed(bytes);

        assertThatThrownBy(() -> SegmentReader.open(KEY, sealed))
                .is(badObject(CORRUPT))
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
        SegmentWriter writer = new SegmentWriter(PAGE, 99, spill, Compression.TIGHT);
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
            assertThat(sealed.sameContent(new ByteArrayInputStream(segment()))).isTrue();
            byte[] other = segment();
            other[60] ^= 1;
            assertThat(sealed.sameContent(new ByteArrayInputStream(other))).isFalse();
            assertThat(sealed.sameContent(new ByteArrayInputStream(java.util.Arrays.copyOf(other, 80))))
                    .isFalse();
        }
        assertThat(spill.reservedBytes()).isZero();
        try (var files = java.nio.file.Files.list(dir)) {
            assertThat(files).as("the spill file is gone once closed").isEmpty();
        }
    }

    @Test
    void write_beyondTheSharedBudget_spillsThoughItsOwnHasRoom(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        SegmentSpill runtime = SegmentSpill.shared(12 << 10); // the first body's chunks: 4 + 8 KiB
        SegmentSpill first = new SegmentSpill(dir.resolve("a"), 1 << 20, runtime);
        SegmentSpill second = new SegmentSpill(dir.resolve("b"), 1 << 20, runtime);
        SegmentWriter a = new SegmentWriter(PAGE, 99, first, Compression.TIGHT);
        SegmentWriter b = new SegmentWriter(PAGE, 99, second, Compression.TIGHT);
        for (Transaction txn : List.of(txn(5, 10, 1, 2, 3), txn(6, 12, 12), txn(7, 12))) {
            txn.writeTo(a);
            txn.writeTo(b);
        }
        assertThat(runtime.reservedBytes()).as("never more than the shared budget").isLessThanOrEqualTo(12 << 10);
        try (SealedSegment sa = a.seal(); SealedSegment sb = b.seal()) {
            assertThat(sa.bytes()).as("the first stayed in memory").isPresent();
            assertThat(sb.file()).as("the second went to a file: the runtime had no room left").isPresent();
            for (SealedSegment sealed : List.of(sa, sb)) {
                assertThat(sealed.sameContent(new ByteArrayInputStream(segment()))).isTrue();
            }
        }
        assertThat(runtime.reservedBytes()).as("given back to the runtime once stored").isZero();
        assertThat(first.reservedBytes() + second.reservedBytes()).isZero();
    }

    @Test
    void read_fromAFile_checksTheWholeObjectFirst(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        byte[] bytes = segment();
        bytes[bytes.length - 20] ^= 1;
        java.nio.file.Path file = dir.resolve("segment");
        java.nio.file.Files.write(file, bytes);

        assertThatThrownBy(() -> SegmentReader.open(KEY, file)).is(badObject(CORRUPT))
                .hasMessageContaining("object checksum mismatch");
    }

    @Test
    void write_isDeterministic() {
        assertThat(segment()).isEqualTo(segment());
    }

    @Test
    void pageWrittenAgain_isStoredAsAChangeAndReadsBackWhole() throws Exception {
        Random random = new Random(3);
        byte[] image = new byte[PAGE];
        random.nextBytes(image);
        SegmentWriter writer = new SegmentWriter(PAGE, 0);
        List<byte[]> written = new ArrayList<>();
        for (long txid = 1; txid <= 200; txid++) {
            image[random.nextInt(PAGE)] ^= (byte) (1 + random.nextInt(255)); // one byte changes per transaction
            written.add(image.clone());
            writer.begin(txid, txid, 4, 1);
            writer.page(3, image, 0);
            writer.end(txid);
        }
        byte[] bytes = writer.seal().bytes().orElseThrow();

        List<Transaction> read = readAll(SegmentReader.open(KEY, bytes));
        for (int i = 0; i < written.size(); i++) {
            assertThat(read.get(i).pageImages()).as("txid %d", i + 1).isEqualTo(written.get(i));
        }
        ByteBuffer raw = ByteBuffer.wrap(rawBody(bytes));
        int changes = 0;
        for (int record = 0; record < 200; record++) {
            int recordStart = record * (int) SegmentWriter.encodedBytes(1, PAGE);
            int pgnoWord = raw.getInt(recordStart + FormatLayout.TXN_HEADER_SIZE);
            changes += (pgnoWord & FormatLayout.PGNO_DELTA_FLAG) != 0 ? 1 : 0;
        }
        assertThat(changes).as("records stored as a change to the previous image").isEqualTo(199);
    }

    private static byte[] rawBody(byte[] bytes) throws Exception {
        int bodyLength = bytes.length - FormatLayout.SEGMENT_HEADER_SIZE - FormatLayout.TRAILER_SIZE;
        return new BlockInputStream(new ByteArrayInputStream(bytes, FormatLayout.SEGMENT_HEADER_SIZE, bodyLength),
                KEY, FormatLayout.SEGMENT_HEADER_SIZE).readAllBytes();
    }

    @Test
    void read_changeWithoutItsEarlierImage_throwsCorruptObject() throws Exception {
        byte[] bytes = Transaction.segment(PAGE, 99, txn(5, 10, 1, 2, 3));
        // mark the first page record (txid 5, page 1) as a change although no earlier image exists
        byte[] damaged = rewrittenBody(bytes, raw -> raw.putInt(FormatLayout.TXN_HEADER_SIZE,
                1 | FormatLayout.PGNO_DELTA_FLAG));

        SegmentReader reader = SegmentReader.open(KEY, damaged);
        reader.nextTransaction();
        assertThatThrownBy(() -> reader.readPages((pgno, image) -> { }))
                .is(badObject(CORRUPT))
                .hasMessageContaining("page 1 is stored as a change to an earlier image");
    }

    /** The segment with its decompressed body edited, compressed and sealed again. */
    private static byte[] rewrittenBody(byte[] bytes, Consumer<ByteBuffer> edit) throws Exception {
        byte[] raw = rawBody(bytes);
        edit.accept(ByteBuffer.wrap(raw));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(bytes, 0, FormatLayout.SEGMENT_HEADER_SIZE);
        BlockOutputStream blocks = new BlockOutputStream(out);
        blocks.write(raw, 0, raw.length);
        blocks.finish();
        out.write(new byte[FormatLayout.TRAILER_SIZE]);
        return resealed(out.toByteArray());
    }
}
