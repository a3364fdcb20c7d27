package io.walship.replica;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.SqlFunction;
import io.walship.storage.ForwardingStorage;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import io.walship.storage.fs.FileSystemStorage;
import java.io.Closeable;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replica.readAtLeast and Replica.read(maxStaleness): the bound holds, or a typed error says it could not. */
class BoundedReadTest {
    private static final SqlFunction<Long> COUNT = conn -> queryLong(conn, "select count(*) from t");

    @TempDir
    Path dir;
    /** File storage without its change notifications: only a poll or a wake-up finds new segments. */
    private Storage storage;

    @BeforeEach
    void storage() throws Exception {
        storage = new ForwardingStorage(FileSystemStorage.open(dir.resolve("storage"))) {
            @Override
            public Optional<Closeable> watch(String prefix, Runnable onChange) {
                return Optional.empty();
            }
        };
    }

    @Test
    void readAtLeast_followingWithAnHourLongPoll_wakesTheFollowerAndReadsTheWrite() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"),
                    ReplicaOptions.builder().pollInterval(Duration.ofHours(1)).maxErrorBackoff(Duration.ofHours(1))
                            .build())) {
                replica.follow();
                for (int i = 1; i <= 5; i++) {
                    long txid = primary.write(conn -> exec(conn, "insert into t values (1)")).get();
                    assertThat(replica.readAtLeast(txid, Duration.ofSeconds(10), COUNT))
                            .isEqualTo(i);
                }
            }
        }
    }

    @Test
    void readAtLeast_notFollowing_pollsItself() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
                long txid = primary.write(conn -> exec(conn, "insert into t values (1)")).get();
                assertThat(replica.readAtLeast(txid, Duration.ofSeconds(10), COUNT))
                        .isEqualTo(1);
            }
        }
    }

    @Test
    void readAtLeast_aTxidNobodyStored_throwsTypedAfterTheTimeout_withoutReading() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            long txid = primary.write(conn -> exec(conn, "create table t(x)")).get();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
                replica.follow();
                long started = System.nanoTime();
                assertThatThrownBy(() -> replica.readAtLeast(txid + 100, Duration.ofMillis(300), conn -> {
                    throw new AssertionError("read although the txid was not there");
                })).isInstanceOfSatisfying(StaleReadException.class, e -> {
                    assertThat(e.txid()).isEqualTo(txid);
                    assertThat(e.wantedTxid()).contains(txid + 100);
                    assertThat(e.bound()).isEqualTo(Duration.ofMillis(300));
                    assertThat(e).hasMessageContaining("wanted=" + (txid + 100)).hasMessageContaining("status()");
                });
                assertThat(Duration.ofNanos(System.nanoTime() - started))
                        .isGreaterThanOrEqualTo(Duration.ofMillis(300));
            }
        }
    }

    @Test
    void readWithMaxStaleness_withinTheBound_readsWhatItHas_beyondIt_catchesUpFirst() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
                assertThat(replica.read(Duration.ZERO, COUNT)).isZero();
                primary.write(conn -> exec(conn, "insert into t values (1)")).get();
                // it looked at storage a moment ago: an hour's staleness is allowed, so no look now
                assertThat(replica.read(Duration.ofHours(1), COUNT)).isZero();
                Thread.sleep(20);
                assertThat(replica.read(Duration.ofMillis(10), COUNT)).isEqualTo(1);
            }
        }
    }

    @Test
    void readWithMaxStaleness_storageFailing_throwsTypedWithTheCause_andReadsAgainOnceItHeals() throws Exception {
        AtomicBoolean down = new AtomicBoolean();
        Storage faulty = new ForwardingStorage(storage) {
            @Override
            public Optional<InputStream> open(String key) {
                if (down.get()) {
                    throw new StorageException("get", key, true, "injected: storage unreachable", null);
                }
                return super.open(key);
            }
        };
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            try (Replica replica = Replica.open(faulty, dir.resolve("replica.db"))) {
                primary.write(conn -> exec(conn, "insert into t values (1)")).get();
                down.set(true);
                assertThatThrownBy(() -> replica.read(Duration.ofMillis(1), COUNT))
                        .isInstanceOfSatisfying(StaleReadException.class, e -> {
                            assertThat(e.wantedTxid()).isEmpty();
                            assertThat(e.bound()).isEqualTo(Duration.ofMillis(1));
                            assertThat(e.getCause()).isInstanceOf(StorageException.class);
                        });
                assertThat(replica.read(COUNT)).as("unbounded reads go on").isZero();
                down.set(false);
                assertThat(replica.read(Duration.ofMillis(1), COUNT)).isEqualTo(1);
            }
        }
    }
}
