package io.walship.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/FORMAT.md and {@link FormatLayout} say the same thing. */
class FormatLayoutTest {
    private static final Path FORMAT_MD = Path.of("..", "docs", "FORMAT.md");

    /** The (offset, size) pairs of the table under {@code heading}, up to the next heading. */
    private static List<int[]> table(String heading) throws IOException {
        List<String> lines = Files.readAllLines(FORMAT_MD);
        int start = lines.indexOf(heading);
        assertThat(start).as("heading %s in FORMAT.md", heading).isNotNegative();
        List<int[]> rows = new ArrayList<>();
        for (int i = start + 1; i < lines.size() && !lines.get(i).startsWith("#"); i++) {
            String[] cells = lines.get(i).split("\\|");
            if (cells.length > 3 && cells[1].trim().matches("\\d+") && cells[2].trim().matches("\\d+")) {
                rows.add(new int[] {Integer.parseInt(cells[1].trim()), Integer.parseInt(cells[2].trim())});
            }
        }
        return rows;
    }

    private static void assertFields(String heading, int... offsetsThenSizes) throws IOException {
        List<int[]> rows = table(heading);
        assertThat(rows).as(heading).hasSize(offsetsThenSizes.length / 2);
        for (int i = 0; i < rows.size(); i++) {
            assertThat(rows.get(i)).as("%s row %d", heading, i)
                    .containsExactly(offsetsThenSizes[2 * i], offsetsThenSizes[2 * i + 1]);
        }
    }

    @Test
    void segmentHeaderTable_matchesConstants() throws IOException {
        assertFields("## Segment",
                FormatLayout.MAGIC_OFFSET, 4, FormatLayout.VERSION_OFFSET, 2, FormatLayout.FLAGS_OFFSET, 2,
                FormatLayout.PAGE_SIZE_OFFSET, 4, FormatLayout.SEGMENT_TXN_COUNT_OFFSET, 4,
                FormatLayout.SEGMENT_FIRST_TXID_OFFSET, 8, FormatLayout.SEGMENT_LAST_TXID_OFFSET, 8,
                FormatLayout.SEGMENT_CHECKSUM_BEFORE_OFFSET, 8, FormatLayout.SEGMENT_RAW_BODY_BYTES_OFFSET, 8);
        assertThat(FormatLayout.SEGMENT_HEADER_SIZE).isEqualTo(48);
    }

    @Test
    void encryptedEnvelopeTable_matchesConstants() throws IOException {
        assertFields("## Encrypted envelope",
                FormatLayout.ENVELOPE_MAGIC_OFFSET, 4, FormatLayout.ENVELOPE_VERSION_OFFSET, 2,
                FormatLayout.ENVELOPE_FLAGS_OFFSET, 2, FormatLayout.ENVELOPE_CHUNK_SIZE_OFFSET, 4,
                FormatLayout.ENVELOPE_KEY_ID_LENGTH_OFFSET, 1,
                FormatLayout.ENVELOPE_KEY_ID_OFFSET, FormatLayout.ENVELOPE_KEY_ID_BYTES,
                FormatLayout.ENVELOPE_SALT_OFFSET, FormatLayout.ENVELOPE_SALT_BYTES,
                FormatLayout.ENVELOPE_NONCE_PREFIX_OFFSET, FormatLayout.ENVELOPE_NONCE_PREFIX_BYTES);
        assertThat(FormatLayout.ENVELOPE_HEADER_SIZE).isEqualTo(116);
    }

    @Test
    void streamFrameTable_matchesConstants() throws IOException {
        assertFields("## Stream frame",
                FormatLayout.STREAM_MAGIC_OFFSET, 4, FormatLayout.STREAM_KIND_OFFSET, 1,
                FormatLayout.STREAM_STORED_TXID_OFFSET, 8, FormatLayout.STREAM_LENGTH_OFFSET, 4,
                FormatLayout.STREAM_HEADER_CRC_OFFSET, 4);
        assertThat(FormatLayout.STREAM_FRAME_HEADER_SIZE).isEqualTo(21);
        assertFields("## Stream hello",
                FormatLayout.STREAM_HELLO_MAGIC_OFFSET, 4, FormatLayout.STREAM_HELLO_VERSION_OFFSET, 2,
                FormatLayout.STREAM_HELLO_FROM_OFFSET, 8, FormatLayout.STREAM_HELLO_TOKEN_LENGTH_OFFSET, 2);
        assertThat(FormatLayout.STREAM_HELLO_SIZE).isEqualTo(16);
    }

    @Test
    void transactionRecordTable_matchesConstants() throws IOException {
        assertFields("### Transaction record (inside the decompressed body)",
                FormatLayout.TXN_TXID_OFFSET, 8, FormatLayout.TXN_COMMIT_MILLIS_OFFSET, 8,
                FormatLayout.TXN_DB_PAGES_OFFSET, 4, FormatLayout.TXN_PAGE_COUNT_OFFSET, 4);
        assertThat(FormatLayout.TXN_HEADER_SIZE).isEqualTo(24);
    }

    @Test
    void snapshotHeaderTable_matchesConstants() throws IOException {
        assertFields("## Snapshot",
                FormatLayout.MAGIC_OFFSET, 4, FormatLayout.VERSION_OFFSET, 2, FormatLayout.FLAGS_OFFSET, 2,
                FormatLayout.PAGE_SIZE_OFFSET, 4, FormatLayout.SNAPSHOT_PAGE_COUNT_OFFSET, 4,
                FormatLayout.SNAPSHOT_TXID_OFFSET, 8, FormatLayout.SNAPSHOT_CHECKSUM_OFFSET, 8,
                FormatLayout.SNAPSHOT_CREATED_MILLIS_OFFSET, 8);
        assertThat(FormatLayout.SNAPSHOT_HEADER_SIZE).isEqualTo(40);
    }

    @Test
    void replicaStateTable_matchesConstants() throws IOException {
        assertFields("## Replica state",
                FormatLayout.MAGIC_OFFSET, 4, FormatLayout.VERSION_OFFSET, 2, FormatLayout.FLAGS_OFFSET, 2,
                FormatLayout.PAGE_SIZE_OFFSET, 4, FormatLayout.REPLICA_PAGE_COUNT_OFFSET, 4,
                FormatLayout.REPLICA_TXID_OFFSET, 8, FormatLayout.REPLICA_CHECKSUM_OFFSET, 8,
                FormatLayout.REPLICA_APPLYING_TXID_OFFSET, 8, FormatLayout.REPLICA_APPLYING_LAST_TXID_OFFSET, 8,
                FormatLayout.REPLICA_CHANGE_COUNTER_OFFSET, 4, FormatLayout.REPLICA_SEQUENCE_OFFSET, 4);
        assertThat(FormatLayout.REPLICA_STATE_HEADER_SIZE).isEqualTo(56);
        assertThat(Files.readString(FORMAT_MD)).contains(String.format("`0x%08X`", FormatLayout.REPLICA_STATE_MAGIC));
    }

    @Test
    void checkpointRecordTable_matchesConstants() throws IOException {
        assertFields("## Checkpoint record",
                FormatLayout.MAGIC_OFFSET, 4, FormatLayout.VERSION_OFFSET, 2, FormatLayout.FLAGS_OFFSET, 2,
                FormatLayout.PAGE_SIZE_OFFSET, 4, FormatLayout.CHECKPOINT_PAGE_COUNT_OFFSET, 4,
                FormatLayout.CHECKPOINT_TXID_OFFSET, 8, FormatLayout.CHECKPOINT_CHECKSUM_OFFSET, 8,
                FormatLayout.CHECKPOINT_APPLYING_LAST_TXID_OFFSET, 8, FormatLayout.CHECKPOINT_FILE_SIZE_OFFSET, 8,
                FormatLayout.CHECKPOINT_FILE_MTIME_NANOS_OFFSET, 8, FormatLayout.CHECKPOINT_FILE_CTIME_NANOS_OFFSET, 8,
                FormatLayout.CHECKPOINT_FILE_INODE_OFFSET, 8, FormatLayout.CHECKPOINT_FOLDED_SALT1_OFFSET, 4,
                FormatLayout.CHECKPOINT_FOLDED_SALT2_OFFSET, 4, FormatLayout.CHECKPOINT_SEQUENCE_OFFSET, 4,
                FormatLayout.CHECKPOINT_FOLDED_FRAMES_OFFSET, 4);
        assertThat(FormatLayout.CHECKPOINT_HEADER_SIZE_NO_FOLDED_FRAMES).isEqualTo(84);
        assertThat(FormatLayout.CHECKPOINT_HEADER_SIZE).isEqualTo(88);
        assertThat(FormatLayout.CHECKPOINT_SLOT_STRIDE).isEqualTo(4096);
        assertThat(FormatLayout.CHECKPOINT_PAGE_HASHES_OFFSET).isEqualTo(8192);
        assertThat(Files.readString(FORMAT_MD))
                .contains(String.format("`0x%08X`", FormatLayout.CHECKPOINT_RECORD_MAGIC))
                .contains("slot *i* at byte *i* × 4096").contains("from byte 8192");
    }

    @Test
    void blockTable_matchesConstants() throws IOException {
        assertFields("## Block stream", FormatLayout.BLOCK_RAW_LENGTH_OFFSET, 4,
                FormatLayout.BLOCK_COMPRESSED_LENGTH_OFFSET, 4);
    }

    @Test
    void magicsAndVersion_appearInFormatMd() throws IOException {
        String text = Files.readString(FORMAT_MD);
        assertThat(text).contains(String.format("`0x%08X`", FormatLayout.SEGMENT_MAGIC))
                .contains(String.format("`0x%08X`", FormatLayout.SNAPSHOT_MAGIC))
                .contains("# walship stored formats, version " + FormatLayout.FORMAT_VERSION)
                .contains("`MAX_BLOCK_RAW_BYTES` = 1 MiB");
        assertThat(FormatLayout.MAX_BLOCK_RAW_BYTES).isEqualTo(1 << 20);
    }
}
