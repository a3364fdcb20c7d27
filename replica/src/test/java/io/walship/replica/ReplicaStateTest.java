package io.walship.replica;

import static io.walship.BadObjectException.Kind.CORRUPT;
import static io.walship.BadObjectException.Kind.UNSUPPORTED_FORMAT;
import static io.walship.testing.BadObjects.badObject;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.internal.log.FormatLayout;
import io.walship.testing.Mutations;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicaStateTest {
    private static final int PAGE = 1024;
    private static final int SLOT = FormatLayout.REPLICA_STATE_HEADER_SIZE + PAGE + FormatLayout.TRAILER_SIZE;

    @TempDir
    Path dir;

    private static ReplicaState state(long txid, int sequence) {
        byte[] page1 = new byte[PAGE];
        page1[100] = (byte) txid;
        return new ReplicaState(PAGE, 3, txid, 0xabcdef00L + txid, 0, 0, 7, sequence, page1);
    }

    private Path file() {
        return dir.resolve("r.db-walship.state");
    }

    private void damage(long offset) throws Exception {
        Mutations.flipByte(file(), offset);
    }

    @Test
    void update_alternatesSlotsAndReadReturnsTheNewest() throws Exception {
        state(10, 0).create(file());
        for (int sequence = 1; sequence <= 5; sequence++) {
            state(10 + sequence, sequence).update(file(), true);
            assertThat(ReplicaState.read(file()).orElseThrow().txid()).isEqualTo(10 + sequence);
        }
        assertThat(Files.size(file())).isEqualTo(2L * SLOT);
    }

    @Test
    void aheadAndRollingBackFlags_surviveTheRoundTrip_applyingStaysDerivedFromTheIntent() throws Exception {
        state(10, 0).create(file());
        ReplicaState s = state(11, 1);
        int flags = FormatLayout.REPLICA_FLAG_AHEAD | FormatLayout.REPLICA_FLAG_ROLLING_BACK;
        new ReplicaState(PAGE, 3, 11, s.checksum(), 0, 0, 7, 1, s.page1(), flags).update(file(), true);

        ReplicaState read = ReplicaState.read(file()).orElseThrow();

        assertThat(read.ahead()).isTrue();
        assertThat(read.rollingBack()).isTrue();
        assertThat(read.applying()).isFalse();
        assertThat(read.flags()).isEqualTo(flags);
    }

    @Test
    void read_newerSlotTornByACrash_returnsTheStateBeforeIt() throws Exception {
        state(10, 0).create(file());
        state(11, 1).update(file(), true); // slot 1
        damage(SLOT + 200); // inside slot 1's page 1: as if the write was torn

        ReplicaState read = ReplicaState.read(file()).orElseThrow();

        assertThat(read.txid()).isEqualTo(10);
        assertThat(read.sequence()).isZero();
    }

    @Test
    void read_bothSlotsDamaged_throwsCorrupt() throws Exception {
        state(10, 0).create(file());
        state(11, 1).update(file(), true);
        damage(200);
        damage(SLOT + 200);

        assertThatThrownBy(() -> ReplicaState.read(file())).is(badObject(CORRUPT))
                .hasMessageContaining("neither slot");
    }

    @Test
    void read_sequenceWrappedPastIntMax_stillPicksTheNewer() throws Exception {
        state(10, Integer.MAX_VALUE).create(file());
        state(11, Integer.MIN_VALUE).update(file(), true);

        assertThat(ReplicaState.read(file()).orElseThrow().txid()).isEqualTo(11);
    }

    @Test
    void create_overAnOlderFile_leavesNoSlotOfIt() throws Exception {
        state(10, 0).create(file());
        state(99, 1).update(file(), true);
        state(5, 0).create(file()); // a fresh restore

        assertThat(ReplicaState.read(file()).orElseThrow().txid()).isEqualTo(5);
    }

    @Test
    void read_slotOfANewerFormatVersion_throwsUnsupportedInsteadOfFallingBack() throws Exception {
        state(10, 0).create(file());
        state(11, 1).update(file(), true);
        try (FileChannel channel = FileChannel.open(file(), StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(2).putShort(0, (short) 99), SLOT + FormatLayout.VERSION_OFFSET);
        }

        assertThatThrownBy(() -> ReplicaState.read(file())).is(badObject(UNSUPPORTED_FORMAT));
    }

    @Test
    void read_fileOfOneSlot_throwsCorrupt() throws Exception {
        state(10, 0).create(file());
        try (FileChannel channel = FileChannel.open(file(), StandardOpenOption.WRITE)) {
            channel.truncate(SLOT);
        }

        assertThatThrownBy(() -> ReplicaState.read(file())).is(badObject(CORRUPT))
                .hasMessageContaining("not two slots");
    }
}
