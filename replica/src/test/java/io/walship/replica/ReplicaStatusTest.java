package io.walship.replica;

import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.testing.ManualClock;
import io.walship.testing.MemoryStorage;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A replica's status reads its injected clock: lag and times are exact, not sampled from the wall clock. */
class ReplicaStatusTest {
    private static final Instant COMMITTED = Instant.parse("2026-03-01T10:00:00Z");

    @TempDir
    Path dir;

    @Test
    void status_lagIsTheReplicaClockMinusThePrimaryCommitTime() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        ManualClock primaryClock = new ManualClock(COMMITTED);
        ManualClock replicaClock = new ManualClock(COMMITTED.plusSeconds(7));
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"),
                PrimaryOptions.builder().clock(primaryClock).compaction(null).build());
             Replica replica = Replica.open(storage, dir.resolve("replica.db"),
                     ReplicaOptions.builder().clock(replicaClock).build())) {
            long txid = primary.write(conn -> exec(conn, "create table t(x)")).get(Duration.ofSeconds(30));

            assertThat(replica.poll()).isEqualTo(txid);
            ReplicaStatus status = replica.status();
            assertThat(status.committedAt()).contains(COMMITTED);
            assertThat(status.appliedAt()).contains(COMMITTED.plusSeconds(7));
            assertThat(status.lag()).contains(Duration.ofSeconds(7));
            assertThat(status.lastPollAt()).contains(COMMITTED.plusSeconds(7));

            replicaClock.advance(Duration.ofMinutes(2));
            replica.poll(); // nothing new: the poll time moves, the applied time does not
            assertThat(replica.status().lastPollAt()).contains(COMMITTED.plusSeconds(127));
            assertThat(replica.status().appliedAt()).contains(COMMITTED.plusSeconds(7));
        }
    }
}
