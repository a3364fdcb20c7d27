package io.walship;

import static io.walship.BadObjectException.Kind.CORRUPT;
import static io.walship.BadObjectException.Kind.UNSUPPORTED_FORMAT;
import static io.walship.testing.BadObjects.badObject;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.internal.capture.WalReader;
import io.walship.internal.log.DatabaseChecksum;
import io.walship.internal.log.FormatLayout;
import io.walship.testing.Mutations;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointRecordTest {
    private static final int PAGE_SIZE = 1024;

    @TempDir
    Path dir;

    private Path db() throws Exception {
        Path db = dir.resolve("app.db");
        if (!Files.exists(db)) {
            Files.write(db, new byte[PAGE_SIZE * 4]);
        }
        return db;
    }

    private Path file() throws Exception {
        return CheckpointRecord.pathFor(db());
    }

    private static DatabaseChecksum pages(int count, long seed) {
        DatabaseChecksum checksum = new DatabaseChecksum(PAGE_SIZE);
        Random random = new Random(seed);
        byte[] page = new byte[PAGE_SIZE];
        for (int pgno = 1; pgno <= count; pgno++) {
            random.nextBytes(page);
            checksum.setPage(pgno, page, 0);
        }
        return checksum;
    }

    private void damage(long offset) throws Exception {
        Mutations.flipByte(file(), offset);
    }

    @Test
    void create_thenRead_givesTheStateAndIntactHashesAndAMatchingFingerprint() throws Exception {
        DatabaseChecksum pages = pages(40, 1);
        CheckpointRecord.create(db(), 17, pages, 0).close();

        CheckpointRecord.Contents read = CheckpointRecord.read(db()).orElseThrow();
        assertThat(read.header().txid()).isEqualTo(17);
        assertThat(read.header().dirty()).isFalse();
        assertThat(read.header().checksum()).isEqualTo(pages.value());
        assertThat(read.intact()).isTrue();
        assertThat(read.pages().pageHash(40)).isEqualTo(pages.pageHash(40));
        assertThat(read.header().fingerprint().matches(CheckpointRecord.FileFingerprint.of(db()))).isTrue();
    }

    @Test
    void read_missing_isEmpty() throws Exception {
        assertThat(CheckpointRecord.read(db())).isEmpty();
    }

    @Test
    void fingerprint_afterTheDatabaseFileIsWritten_noLongerMatches() throws Exception {
        CheckpointRecord.create(db(), 1, pages(4, 2), 0).close();
        Files.write(db(), new byte[PAGE_SIZE * 4]); // same size, new bytes

        assertThat(CheckpointRecord.read(db()).orElseThrow().header().fingerprint()
                .matches(CheckpointRecord.FileFingerprint.of(db()))).isFalse();
    }

    @Test
    void checkpointed_inPlace_equalsAFreshRecordOfTheSameState() throws Exception {
        DatabaseChecksum pages = pages(30, 3);
        try (CheckpointRecord record = CheckpointRecord.create(db(), 5, pages, 0)) {
            BitSet changed = new BitSet();
            byte[] image = new byte[PAGE_SIZE];
            for (int pgno : new int[] {2, 3, 4, 17, 30}) {
                new Random(pgno).nextBytes(image);
                pages.setPage(pgno, image, 0);
                changed.set(pgno);
            }
            pages.resize(45); // grew: pages 31..45 are new
            record.markDirty();
            record.checkpointed(9, pages, changed, new WalReader.Generation(7, 8), 4_000);
        }
        CheckpointRecord.Contents read = CheckpointRecord.read(db()).orElseThrow();
        assertThat(read.header().txid()).isEqualTo(9);
        assertThat(read.header().dirty()).isFalse();
        assertThat(read.header().folded()).isEqualTo(new WalReader.Generation(7, 8));
        assertThat(read.header().foldedFrames()).isEqualTo(4_000);
        assertThat(read.intact()).isTrue();
        for (int pgno = 1; pgno <= 45; pgno++) {
            assertThat(read.pages().pageHash(pgno)).as("page %d", pgno).isEqualTo(pages.pageHash(pgno));
        }

        try (CheckpointRecord record = CheckpointRecord.open(db(), read.header())) {
            pages.resize(12); // shrank
            record.checkpointed(10, pages, new BitSet(), null, 0);
        }
        read = CheckpointRecord.read(db()).orElseThrow();
        assertThat(read.header().pageCount()).isEqualTo(12);
        assertThat(read.header().folded()).isNull();
        assertThat(read.header().foldedFrames()).as("no generation, no frames").isEqualTo(-1);
        assertThat(read.intact()).isTrue();
        assertThat(Files.size(file())).isEqualTo(FormatLayout.CHECKPOINT_PAGE_HASHES_OFFSET + 12L * Long.BYTES);
    }

    @Test
    void markDirty_keepsTheStateAndItsHashes() throws Exception {
        DatabaseChecksum pages = pages(8, 4);
        try (CheckpointRecord record = CheckpointRecord.create(db(), 3, pages, 0)) {
            record.markDirty();
        }
        CheckpointRecord.Contents read = CheckpointRecord.read(db()).orElseThrow();
        assertThat(read.header().dirty()).isTrue();
        assertThat(read.header().txid()).isEqualTo(3);
        assertThat(read.intact()).isTrue();
    }

    @Test
    void read_newerSlotTorn_givesTheOlderSlot() throws Exception {
        try (CheckpointRecord record = CheckpointRecord.create(db(), 3, pages(8, 5), 0)) {
            record.markDirty(); // sequence 1: slot 1
        }
        damage(FormatLayout.CHECKPOINT_SLOT_STRIDE + FormatLayout.CHECKPOINT_TXID_OFFSET);

        CheckpointRecord.Contents read = CheckpointRecord.read(db()).orElseThrow();
        assertThat(read.header().sequence()).isZero();
        assertThat(read.header().dirty()).isFalse();
    }

    @Test
    void read_bothSlotsTorn_throwsCorruptObject() throws Exception {
        try (CheckpointRecord record = CheckpointRecord.create(db(), 3, pages(8, 6), 0)) {
            record.markDirty();
        }
        damage(FormatLayout.CHECKPOINT_TXID_OFFSET);
        damage(FormatLayout.CHECKPOINT_SLOT_STRIDE + FormatLayout.CHECKPOINT_TXID_OFFSET);

        assertThatThrownBy(() -> CheckpointRecord.read(db())).is(badObject(CORRUPT))
                .hasMessageContaining("neither header slot");
    }

    @Test
    void read_pageHashTorn_isNotIntact() throws Exception {
        CheckpointRecord.create(db(), 3, pages(8, 7), 0).close();
        damage(FormatLayout.CHECKPOINT_PAGE_HASHES_OFFSET + 5L * Long.BYTES + 3);

        CheckpointRecord.Contents read = CheckpointRecord.read(db()).orElseThrow();
        assertThat(read.header().txid()).isEqualTo(3);
        assertThat(read.intact()).as("hashes that do not XOR to the checksum are not used").isFalse();
    }

    @Test
    void read_writtenByANewerVersion_throwsUnsupportedFormat() throws Exception {
        CheckpointRecord.create(db(), 3, pages(8, 8), 0).close();
        try (FileChannel channel = FileChannel.open(file(), StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(2).putShort(0, (short) 2), FormatLayout.VERSION_OFFSET);
        }

        assertThatThrownBy(() -> CheckpointRecord.read(db())).is(badObject(UNSUPPORTED_FORMAT));
    }

    /** Records written before the folded frame count existed end their header before it: still read. */
    @Test
    void read_headerWithoutFoldedFrames_givesTheStateWithFoldedFramesUnknown() throws Exception {
        try (CheckpointRecord record = CheckpointRecord.create(db(), 3, pages(8, 9), 0)) {
            record.checkpointed(4, pages(8, 9), new BitSet(), new WalReader.Generation(5, 6), 120);
        }
        CheckpointRecord.Header written = CheckpointRecord.read(db()).orElseThrow().header();
        int slotOffset = (written.sequence() & 1) * FormatLayout.CHECKPOINT_SLOT_STRIDE;
        try (FileChannel channel = FileChannel.open(file(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            int size = FormatLayout.CHECKPOINT_HEADER_SIZE_NO_FOLDED_FRAMES;
            ByteBuffer slot = ByteBuffer.allocate(size + Long.BYTES);
            channel.read(slot, slotOffset);
            slot.putShort(FormatLayout.FLAGS_OFFSET,
                    (short) (slot.getShort(FormatLayout.FLAGS_OFFSET) & ~FormatLayout.CHECKPOINT_FLAG_FOLDED_FRAMES));
            slot.putLong(size, net.jpountz.xxhash.XXHashFactory.fastestInstance().hash64()
                    .hash(slot.array(), 0, size, FormatLayout.OBJECT_HASH_SEED));
            channel.write(slot.flip(), slotOffset);
        }

        CheckpointRecord.Contents read = CheckpointRecord.read(db()).orElseThrow();
        assertThat(read.header().sequence()).isEqualTo(written.sequence());
        assertThat(read.header().txid()).isEqualTo(4);
        assertThat(read.header().folded()).isEqualTo(new WalReader.Generation(5, 6));
        assertThat(read.header().foldedFrames()).isEqualTo(-1);
        assertThat(read.intact()).isTrue();
    }
}
