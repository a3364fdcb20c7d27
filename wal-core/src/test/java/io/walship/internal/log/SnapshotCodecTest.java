package io.walship.internal.log;

import static io.walship.BadObjectException.Kind.CORRUPT;
import static io.walship.BadObjectException.Kind.UNSUPPORTED_FORMAT;
import static io.walship.testing.BadObjects.badObject;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SnapshotCodecTest {
    private static final int PAGE = 4096;
    private static final String KEY = "snapshots/0000000000000009";

    static byte[] pages(int count) {
        return pages(PAGE, count);
    }

    static byte[] pages(int pageSize, int count) {
        byte[] pages = new byte[count * pageSize];
        Random random = new Random(count);
        // half random, half compressible, like real pages
        for (int i = 0; i < pages.length; i += 2) {
            pages[i] = (byte) random.nextInt(4);
        }
        return pages;
    }

    static byte[] snapshot(byte[] pages, int count) throws IOException {
        return snapshot(pages, PAGE, count);
    }

    /** A snapshot at txid 9 of the first {@code count} pages of {@code pageSize} in {@code pages}. */
    static byte[] snapshot(byte[] pages, int pageSize, int count) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DatabaseChecksum checksum = new DatabaseChecksum(pageSize);
        for (int i = 0; i < count; i++) {
            checksum.setPage(i + 1, pages, i * pageSize);
        }
        SnapshotWriter writer = new SnapshotWriter(out, pageSize, count, 9, checksum.value(), 1234);
        ByteBuffer buffer = ByteBuffer.wrap(pages);
        for (int i = 0; i < count; i++) {
            writer.writePage(buffer, i * pageSize);
        }
        writer.finish();
        return out.toByteArray();
    }

    static byte[] readAll(byte[] bytes) throws IOException {
        SnapshotReader reader = SnapshotReader.open(KEY, new ByteArrayInputStream(bytes));
        byte[] pages = new byte[reader.pageCount() * reader.pageSize()];
        for (int i = 0; i < reader.pageCount(); i++) {
            reader.readPage(pages, i * reader.pageSize());
        }
        reader.finish();
        return pages;
    }

    @Test
    void read_writtenSnapshot_returnsSamePagesAcrossManyBlocks() throws IOException {
        byte[] pages = pages(700); // 2.8 MB: three blocks
        byte[] bytes = snapshot(pages, 700);
        SnapshotReader reader = SnapshotReader.open(KEY, new ByteArrayInputStream(bytes));

        assertThat(reader.txid()).isEqualTo(9);
        assertThat(reader.pageCount()).isEqualTo(700);
        assertThat(reader.createdMillis()).isEqualTo(1234);
        assertThat(readAll(bytes)).isEqualTo(pages);
        assertThat(bytes.length).isLessThan(pages.length / 2);
    }

    /**
     * A restore decompresses into direct buffers: runs of pages that end inside a block (copied
     * out of the stream's buffer) and runs that hold whole blocks (decompressed in place) both
     * land at the index asked for, whatever the buffer's position.
     */
    @Test
    void readPagesIntoDirectBuffers_inRunsThatSplitBlocks_returnsSamePages() throws IOException {
        byte[] pages = pages(700);
        SnapshotReader reader = SnapshotReader.open(KEY, new ByteArrayInputStream(snapshot(pages, 700)));
        ByteBuffer run = ByteBuffer.allocateDirect(509 * PAGE + 7);
        run.position(5); // an absolute read ignores it
        byte[] read = new byte[pages.length];
        int pgno = 0;
        // blocks hold 256 pages: 3 copied; 253 copied, then a whole block in place at an inner index;
        // the last block (188 pages) in place at the start
        for (int count : new int[] {3, 509, 188}) {
            reader.readPages(run, 7, count);
            run.get(7, read, pgno * PAGE, count * PAGE);
            pgno += count;
        }
        reader.finish();

        assertThat(pgno).isEqualTo(700);
        assertThat(read).isEqualTo(pages);
        assertThat(run.position()).isEqualTo(5);
    }

    @Test
    void read_emptyDatabase_roundTrips() throws IOException {
        assertThat(readAll(snapshot(new byte[0], 0))).isEmpty();
    }

    @Test
    void read_truncatedSnapshot_throwsCorruptObject() throws IOException {
        byte[] bytes = snapshot(pages(40), 40);
        for (int length : new int[] {0, 5, 39, 41, bytes.length / 3, bytes.length - 9, bytes.length - 1}) {
            byte[] truncated = Arrays.copyOf(bytes, length);
            assertThatThrownBy(() -> readAll(truncated)).as("length %d", length)
                    .is(badObject(CORRUPT))
                    .hasMessageContaining("key=" + KEY);
        }
    }

    @Test
    void read_flippedBits_throwTypedErrors() throws IOException {
        byte[] bytes = snapshot(pages(20), 20);
        Random random = new Random(7);
        for (int n = 0; n < 300; n++) {
            byte[] damaged = bytes.clone();
            int at = random.nextInt(damaged.length);
            damaged[at] ^= (byte) (1 << random.nextInt(8));
            assertThatThrownBy(() -> readAll(damaged)).as("bit flipped at %d", at)
                    .is(badObject(CORRUPT, UNSUPPORTED_FORMAT));
        }
    }

    @Test
    void read_trailingGarbage_throwsCorruptObject() throws IOException {
        byte[] bytes = snapshot(pages(3), 3);
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);

        assertThatThrownBy(() -> readAll(longer)).is(badObject(CORRUPT))
                .hasMessageContaining("bytes after the trailer");
    }

    @Test
    void read_unknownVersion_throwsUnsupportedFormat() throws IOException {
        byte[] bytes = snapshot(pages(3), 3);
        ByteBuffer.wrap(bytes).putShort(FormatLayout.VERSION_OFFSET, (short) 9);

        assertThatThrownBy(() -> readAll(bytes)).is(badObject(UNSUPPORTED_FORMAT))
                .hasMessageContaining("found=9");
    }
}
