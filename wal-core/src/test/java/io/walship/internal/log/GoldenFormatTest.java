package io.walship.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.junit.jupiter.api.Test;

/**
 * Stored formats, pinned by files in {@code src/test/resources/format/}: a snapshot (version 1)
 * and the segment that follows it, in segment versions 1 (whole page images) and 2 (pages written
 * again in a segment stored as deltas). The readers must decode every file to the pages and
 * checksums below, and the writers must reproduce the current versions' headers and raw blocks
 * byte for byte, so a change to either side shows here even when both change together. A later format version adds its own
 * files and keeps these: old objects stay readable.
 *
 * <p>To write the files again (only for a deliberate format change, with a new version number):
 * {@code mvn -pl wal-core test -Dtest=GoldenFormatTest -Dwalship.writeGolden=true}.
 */
class GoldenFormatTest {
    private static final int PAGE = 1024;
    private static final long SNAPSHOT_TXID = 100;
    private static final long CREATED_MILLIS = 1_764_000_000_000L;
    private static final String SNAPSHOT_FILE = "snapshot-v1.bin";
    private static final String SEGMENT_V1_FILE = "segment-v1.bin";
    private static final String SEGMENT_FILE = "segment-v2.bin";

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

    /** Version 2 adds a transaction writing pages 2 and 8 again: both stored as deltas. */
    private static final List<Txn> TXNS_V2 = Stream.concat(TXNS.stream(), Stream.of(
            new Txn(105, CREATED_MILLIS + 5_000, 8, new int[] {8, 2, 4}, new int[] {2, 2, 1}))).toList();

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
    private static List<Long> checksumsAfter(List<Txn> txns) {
        DatabaseChecksum state = snapshotState();
        List<Long> out = new ArrayList<>();
        for (Txn txn : txns) {
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
        List<Long> after = checksumsAfter(TXNS_V2);
        for (int t = 0; t < TXNS_V2.size(); t++) {
            Txn txn = TXNS_V2.get(t);
            writer.begin(txn.txid(), txn.commitMillis(), txn.databasePages(), txn.pgnos().length);
            for (int i = 0; i < txn.pgnos().length; i++) {
                writer.page(txn.pgnos()[i], page(txn.pgnos()[i], txn.versions()[i]), 0);
            }
            writer.end(after.get(t));
        }
        return writer.seal().bytes().orElseThrow();
    }

    private static byte[] golden(String name) throws IOException {
        if (Boolean.getBoolean("walship.writeGolden") && !name.equals(SEGMENT_V1_FILE)) {
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
    void goldenSegmentV1_decodesToItsTransactionsPagesAndChecksums() throws Exception {
        assertDecodes(golden(SEGMENT_V1_FILE), TXNS);
    }

    @Test
    void goldenSegmentV2_decodesItsDeltasToTheSamePagesAndChecksums() throws Exception {
        byte[] bytes = golden(SEGMENT_FILE);
        assertThat(ByteBuffer.wrap(bytes).getShort(FormatLayout.VERSION_OFFSET)).isEqualTo((short) 2);
        assertDecodes(bytes, TXNS_V2);
    }

    private static void assertDecodes(byte[] bytes, List<Txn> txns) throws Exception {
        SegmentReader reader = SegmentReader.open(ObjectKey.segment(101), bytes);
        assertThat(reader.pageSize()).isEqualTo(PAGE);
        assertThat(reader.firstTxid()).isEqualTo(101);
        assertThat(reader.lastTxid()).isEqualTo(txns.get(txns.size() - 1).txid());
        assertThat(reader.checksumBefore()).isEqualTo(snapshotState().value());
        List<Long> after = checksumsAfter(txns);
        for (Txn expected : txns) {
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
            assertThat(pgnos).containsExactly(Arrays.stream(expected.pgnos()).boxed().toArray(Integer[]::new));
            assertThat(checksum).isEqualTo(after.get(txns.indexOf(expected)));
        }
        assertThat(reader.nextTransaction()).isNull();
    }

    /**
     * What the writers put in an object, LZ4's own choices aside: the header and every block's raw
     * bytes. The compressed bytes are the LZ4 encoder's business (lz4-java 1.14 encodes the golden
     * snapshot differently from 1.10); any LZ4 block decodes, so they are not the format.
     */
    private static byte[] headerAndRawBlocks(byte[] object, int headerSize) {
        ByteBuffer in = ByteBuffer.wrap(object);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(object, 0, headerSize);
        in.position(headerSize);
        LZ4SafeDecompressor lz4 = LZ4Factory.fastestInstance().safeDecompressor();
        while (true) {
            int raw = in.getInt();
            int compressed = in.getInt();
            out.writeBytes(ByteBuffer.allocate(Integer.BYTES).putInt(raw).array());
            if (raw == 0) {
                break;
            }
            byte[] block = new byte[raw];
            assertThat(lz4.decompress(object, in.position(), compressed, block, 0)).isEqualTo(raw);
            out.write(block, 0, raw);
            in.position(in.position() + compressed);
        }
        assertThat(in.remaining()).as("the trailer").isEqualTo(FormatLayout.TRAILER_SIZE);
        return out.toByteArray();
    }

    @Test
    void writers_reproduceTheGoldenFilesHeadersAndBlocks() throws Exception {
        assertThat(headerAndRawBlocks(writeSnapshot(), FormatLayout.SNAPSHOT_HEADER_SIZE)).as(SNAPSHOT_FILE)
                .isEqualTo(headerAndRawBlocks(golden(SNAPSHOT_FILE), FormatLayout.SNAPSHOT_HEADER_SIZE));
        assertThat(headerAndRawBlocks(writeSegment(), FormatLayout.SEGMENT_HEADER_SIZE)).as(SEGMENT_FILE)
                .isEqualTo(headerAndRawBlocks(golden(SEGMENT_FILE), FormatLayout.SEGMENT_HEADER_SIZE));
    }
}
