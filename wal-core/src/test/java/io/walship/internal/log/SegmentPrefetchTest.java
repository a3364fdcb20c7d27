package io.walship.internal.log;

import static io.walship.BadObjectException.Kind.TXID_GAP;
import static io.walship.testing.BadObjects.badObject;
import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.ForwardingStorage;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Rows;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restore fetches upcoming segments several at a time (bounded), applies them in order, and
 * leaves nothing behind when it stops early or fails.
 */
class SegmentPrefetchTest {
    private static final int SEGMENTS = 120;

    @TempDir
    Path dir;

    private final MemoryStorage memory = new MemoryStorage();
    private String fingerprint;

    /** Slow reads, counting how many run at once: what a remote store's round trips look like. */
    private final class SlowStorage extends ForwardingStorage {
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger mostAtOnce = new AtomicInteger();

        SlowStorage() {
            super(memory);
        }

        @Override
        public Optional<InputStream> open(String key) {
            int now = running.incrementAndGet();
            mostAtOnce.accumulateAndGet(now, Math::max);
            try {
                Thread.sleep(5);
                return super.open(key);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } finally {
                running.decrementAndGet();
            }
        }
    }

    @BeforeEach
    void ship() throws Exception {
        try (Primary primary = Primary.open(memory, dir.resolve("p.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(n int)")).get();
            for (int i = 1; i < SEGMENTS; i++) {
                int n = i;
                primary.write(conn -> exec(conn, "insert into t values (" + n + ")")).get(); // one segment each
            }
            fingerprint = primary.read(conn -> Rows.fingerprint(conn));
        }
        assertThat(memory.list(ObjectKey.LOG_PREFIX)).hasSize(SEGMENTS);
    }

    @Test
    void restore_manySmallSegments_fetchesSeveralAtOnceBoundedAndAppliesInOrder() throws Exception {
        SlowStorage slow = new SlowStorage();

        RestoreResult result = Restore.run(slow, dir.resolve("r.db"), RestoreTarget.latest());

        assertThat(result.txid()).isEqualTo(SEGMENTS);
        assertThat(result.segmentsApplied()).isEqualTo(SEGMENTS);
        assertThat(Rows.fingerprint(dir.resolve("r.db"))).isEqualTo(fingerprint);
        assertThat(slow.mostAtOnce.get()).isGreaterThan(1).isLessThanOrEqualTo(SegmentPrefetch.MAX_IN_FLIGHT + 1);
    }

    @Test
    void restore_toAnEarlyTxid_stopsFetchingAndLeavesNoSpillOrTempFile() throws Exception {
        RestoreResult result = Restore.run(new SlowStorage(), dir.resolve("r.db"), RestoreTarget.txid(10));

        assertThat(result.txid()).isEqualTo(10);
        assertThat(Rows.queryLong(dir.resolve("r.db"), "select count(*) from t")).isEqualTo(9);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).allMatch(n -> n.startsWith("p.db")
                    || n.equals("r.db"));
        }
    }

    @Test
    void restore_segmentMissingAhead_failsWithTheGapAndLeavesNoFile() {
        memory.delete(ObjectKey.segment(60));

        assertThatThrownBy(() -> Restore.run(new SlowStorage(), dir.resolve("r.db"), RestoreTarget.latest()))
                .is(badObject(TXID_GAP)).hasMessageContaining("expected=60 found=61");
        assertThat(dir.resolve("r.db")).doesNotExist();
    }
}
