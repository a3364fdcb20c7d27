package io.walship.internal.format;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.format.ObjectKey;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Stored format version 1, pinned by files in {@code src/test/resources/format/}: a snapshot
 * and the segment that follows it, written once by this version of the writers. The readers must
 * decode them to the pages and checksums below, and the writers must reproduce them byte for
 * byte, so a change to either side shows here even when both change together. A later format
 * version adds its own files and keeps these: old objects stay readable.
 *
 * <p>To write the files again (only for a deliberate format change, with a new version number):
 * {@code mvn -pl wal-core test -Dtest=GoldenFormatTest -Dwalship.writeGolden=true}.
 */
class GoldenFormatTest {
    private static final int PAGE = 1024;
    private static final long SNAPSHOT_TXID = 100;
    private static final long CREATED_MILLIS = 1_764_000_000_000L;
    private static final String SNAPSHOT_FILE = "snapshot-v1.bin";
    private static final String SEGMENT_FILE = "segment-v1.bin";

    /** Page {@code pgno} as written by the {@code version}-th transaction touching it: runs and noise. */
    private static byte[] page(int pgno, int version) {
        byte[] page = new byte[PAGE];
        for (int i = 0; i < PAGE; i++) {
            page[i] = (byte) (i < PAGE / 2 ? pgno * 16 + version : (i * 31 + pgno * 7 + version * 13) % 251);
        }
        return page;
    }

    /** One stored transaction of the golden segment: pages it writes, at which version, and the size after. */
    private record Txn(long txid, long commitMillis, int databasePages, int[] pgnos, int[] versions) {
    }

    private static final List<Txn> TXNS = List.of(
            new Txn(101, CREATED_MILLIS + 1_000, 6, new int[] {2, 5}, new int[] {1, 1}),
            new Txn(102, CREATED_MILLIS + 2_000, 8, new int[] {1, 7, 8}, new int[] {2, 1, 1}),
            new Txn(103, CREATED_MILLIS + 3_000, 7, new int[] {3}, new int[] {3}),
            new Txn(104, CREATED_MILLIS + 4_000, 7, new int[] {}, new int[] {}));

    private static DatabaseChecksum snapshotState() {
        DatabaseChecksum state = new DatabaseChecksum(PAGE);
        state.resize(6);
        for (int pgno = 1; pgno <= 6; pgno++) {
            state.setPage(pgno, page(pgno, 0), 0);
        }
        return state;
    }

    private static byte[] writeSnapshot() throws IOException {
        DatabaseChecksum state = snapshotState();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotWriter writer = new SnapshotWriter(out, PAGE, 6, SNAPSHOT_TXID, state.value(), CREATED_MILLIS);
        for (int pgno = 1; pgno <= 6; pgno++) {
            writer.writePage(ByteBuffer.wrap(page(pgno, 0)), 0);
        }
        writer.finish();
        return out.toByteArray();
    }

    /** The checksum after each golden transaction, replayed here from the page generator. */
    private static List<Long> checksumsAfter() {
        DatabaseChecksum state = snapshotState();
        List<Long> out = new ArrayList<>();
        for (Txn txn : TXNS) {
            state.resize(txn.databasePages());
            for (int i = 0; i < txn.pgnos().length; i++) {
                state.setPage(txn.pgnos()[i], page(txn.pgnos()[i], txn.versions()[i]), 0);
            }
            out.add(state.value());
        }
        return out;
    }

    private static byte[] writeSegment() throws IOException {
        SegmentWriter writer = new SegmentWriter(PAGE, snapshotState().value());
        List<Long> after = checksumsAfter();
        for (int t = 0; t < TXNS.size(); t++) {
            Txn txn = TXNS.get(t);
            writer.begin(txn.txid(), txn.commitMillis(), txn.databasePages(), txn.pgnos().length);
            for (int i = 0; i < txn.pgnos().length; i++) {
                writer.page(txn.pgnos()[i], page(txn.pgnos()[i], txn.versions()[i]), 0);
            }
            writer.end(after.get(t));
        }
        return writer.seal().bytes().orElseThrow();
    }

    private static byte[] golden(String name) throws IOException {
        if (Boolean.getBoolean("walship.writeGolden")) {
            Path file = Path.of("src/test/resources/format", name);
            Files.createDirectories(file.getParent());
            Files.write(file, name.equals(SNAPSHOT_FILE) ? writeSnapshot() : writeSegment());
        }
        try (InputStream in = GoldenFormatTest.class.getResourceAsStream("/format/" + name)) {
            assertThat(in).as("golden file %s on the class path", name).isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void goldenSnapshot_decodesToItsPagesAndChecksum() throws Exception {
        SnapshotReader reader = SnapshotReader.open(ObjectKey.snapshot(SNAPSHOT_TXID),
                new ByteArrayInputStream(golden(SNAPSHOT_FILE)));
        assertThat(reader.pageSize()).isEqualTo(PAGE);
        assertThat(reader.pageCount()).isEqualTo(6);
        assertThat(reader.txid()).isEqualTo(SNAPSHOT_TXID);
        assertThat(reader.createdMillis()).isEqualTo(CREATED_MILLIS);
        assertThat(reader.databaseChecksum()).isEqualTo(snapshotState().value());
        byte[] page = new byte[PAGE];
        for (int pgno = 1; pgno <= 6; pgno++) {
            reader.readPage(page, 0);
            assertThat(page).as("page %d", pgno).isEqualTo(page(pgno, 0));
        }
        reader.finish();
    }

    @Test
    void goldenSegment_decodesToItsTransactionsPagesAndChecksums() throws Exception {
        SegmentReader reader = SegmentReader.open(ObjectKey.segment(101), golden(SEGMENT_FILE));
        assertThat(reader.pageSize()).isEqualTo(PAGE);
        assertThat(reader.firstTxid()).isEqualTo(101);
        assertThat(reader.lastTxid()).isEqualTo(104);
        assertThat(reader.checksumBefore()).isEqualTo(snapshotState().value());
        List<Long> after = checksumsAfter();
        for (Txn expected : TXNS) {
            SegmentReader.TransactionHeader txn = reader.nextTransaction();
            assertThat(txn).isEqualTo(new SegmentReader.TransactionHeader(expected.txid(), expected.commitMillis(),
                    expected.databasePages(), expected.pgnos().length));
            List<Integer> pgnos = new ArrayList<>();
            long checksum = reader.readPages((pgno, image) -> {
                int i = pgnos.size();
                pgnos.add(pgno);
                assertThat(image).as("txid %d page %d", expected.txid(), pgno)
                        .isEqualTo(page(expected.pgnos()[i], expected.versions()[i]));
            });
            assertThat(pgnos).containsExactly(java.util.Arrays.stream(expected.pgnos()).boxed().toArray(Integer[]::new));
            assertThat(checksum).isEqualTo(after.get(TXNS.indexOf(expected)));
        }
        assertThat(reader.nextTransaction()).isNull();
    }

    @Test
    void writers_reproduceTheGoldenFilesByteForByte() throws Exception {
        assertThat(writeSnapshot()).as(SNAPSHOT_FILE).isEqualTo(golden(SNAPSHOT_FILE));
        assertThat(writeSegment()).as(SEGMENT_FILE).isEqualTo(golden(SEGMENT_FILE));
    }
}
