package io.walship.replica;

import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.Rows;
import io.walship.testing.SqliteCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch's final state is written without a flush (ADR 0032): the next intent or close flushes
 * it. A power cut before then loses that write, and the state file shows the batch's intent as
 * its newest slot. Reopening must finish the batch from storage and end exactly where the
 * primary was.
 */
class AppliedStateFlushTest {
    @TempDir
    Path dir;

    @Test
    void finalStateLostBeforeReachingTheDisk_reopenReappliesTheBatch_andEndsExact() throws Exception {
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        Path replicaDb = dir.resolve("replica.db");
        Path statePath = ReplicaState.pathFor(replicaDb);
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(id integer primary key, body blob)")).get();
            try (Replica replica = Replica.open(storage, replicaDb)) {
                assertThat(replica.txid()).isEqualTo(primary.txid());
            }
            byte[] before = Files.readAllBytes(statePath);
            for (int i = 0; i < 5; i++) {
                primary.write(conn -> exec(conn, "insert into t(body) values (randomblob(20000))")).get();
            }
            try (Replica replica = Replica.open(storage, replicaDb)) {
                assertThat(replica.poll()).isEqualTo(primary.txid());
            }
            byte[] after = Files.readAllBytes(statePath);

            loseTheFinalStateWrite(statePath, before, after);
            ReplicaState left = ReplicaState.read(statePath).orElseThrow();
            assertThat(left.applying()).as("the intent is the newest state left").isTrue();
            assertThat(left.applyingLastTxid()).isEqualTo(primary.txid());

            Object inode = Files.getAttribute(replicaDb, "unix:ino");
            try (Replica replica = Replica.open(storage, replicaDb)) {
                assertThat(Files.getAttribute(replicaDb, "unix:ino")).as("finished in place, not restored afresh")
                        .isEqualTo(inode);
                assertThat(replica.txid()).isEqualTo(primary.txid());
                String fingerprint = replica.read(Rows::fingerprint);
                assertThat(fingerprint).isEqualTo(primary.read(Rows::fingerprint));
            }
            assertThat(ReplicaState.read(statePath).orElseThrow().applying()).isFalse();
            assertThat(SqliteCli.integrityCheck(replicaDb)).isEqualTo("ok");
        }
    }

    /**
     * Puts back the old content of the slot the final state went to, as if that write never
     * reached the disk: the slot whose old content leaves the intent as the newest state.
     */
    private static void loseTheFinalStateWrite(Path statePath, byte[] before, byte[] after) throws Exception {
        assertThat(after).hasSameSizeAs(before);
        int half = after.length / 2;
        for (int slot = 0; slot < 2; slot++) {
            byte[] lost = after.clone();
            System.arraycopy(before, slot * half, lost, slot * half, half);
            Files.write(statePath, lost);
            if (ReplicaState.read(statePath).orElseThrow().applying()) {
                assertThat(Arrays.equals(lost, after)).isFalse();
                return;
            }
        }
        throw new AssertionError("no slot holds the batch's intent");
    }
}
