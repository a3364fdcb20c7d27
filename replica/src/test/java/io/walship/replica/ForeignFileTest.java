package io.walship.replica;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.compaction.CompactionPolicy;
import io.walship.compaction.Compactor;
import io.walship.internal.log.ObjectKey;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.testing.ManualClock;
import io.walship.testing.MemoryStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica opened on a file that is not this storage's replica refuses it and changes nothing:
 * a primary's database never moves, a plain or restored database or another history's replica
 * moves aside only when asked. Regressions of a follow that moved a crashed primary's database
 * aside without its WAL, after which the primary rebuilt from storage and lost 101 commits.
 */
class ForeignFileTest {
    @TempDir
    Path dir;

    private final MemoryStorage storage = new MemoryStorage();

    @BeforeEach
    void ship() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            for (int i = 1; i <= 5; i++) {
                int v = i;
                primary.write(conn -> exec(conn, "insert into t values (" + v + ")")).get();
            }
        }
    }

    private static long q(Replica replica, String sql) throws Exception {
        return replica.read(conn -> queryLong(conn, sql));
    }

    /** Every file in {@code dir} with its bytes: what "nothing changed" is checked against. */
    private static Map<String, byte[]> contents(Path dir) throws Exception {
        Map<String, byte[]> files = new HashMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path file : list.filter(Files::isRegularFile).filter(p -> !p.toString().endsWith("-walship.lock"))
                    .toList()) {
                files.put(file.getFileName().toString(), Files.readAllBytes(file));
            }
        }
        return files;
    }

    private static void assertUnchanged(Path dir, Map<String, byte[]> before) throws Exception {
        Map<String, byte[]> after = contents(dir);
        assertThat(after.keySet()).as("files in %s", dir).containsExactlyInAnyOrderElementsOf(before.keySet());
        before.forEach((name, bytes) -> assertThat(after.get(name)).as(name).isEqualTo(bytes));
    }

    @Test
    void plainDatabase_isRefusedUntouched_andReplacedOnlyWhenAsked() throws Exception {
        Path app = dir.resolve("app").resolve("app.db");
        Files.createDirectories(app.getParent());
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + app)) {
            exec(conn, "create table mine(y)");
            exec(conn, "insert into mine values (42)");
        }
        Map<String, byte[]> before = contents(app.getParent());

        assertThatThrownBy(() -> Replica.open(storage, app))
                .isInstanceOfSatisfying(ForeignFileException.class,
                        e -> assertThat(e.kind()).isEqualTo(ForeignFileException.Kind.NOT_A_REPLICA))
                .hasMessageContaining("not a walship replica").hasMessageContaining("nothing was changed")
                .hasMessageContaining("replaceForeignFile");
        assertUnchanged(app.getParent(), before);

        try (Replica replica = Replica.open(storage, app,
                ReplicaOptions.builder().replaceForeignFile(true).build())) {
            assertThat(q(replica, "select sum(x) from t")).isEqualTo(15);
        }
        try (Stream<Path> aside = Files.list(app.getParent())) {
            Path copy = aside.filter(p -> p.getFileName().toString().startsWith("app.db.diverged-")).findFirst()
                    .orElseThrow();
            assertThat(queryLong(copy, "select y from mine")).as("the replaced file, kept").isEqualTo(42);
        }
    }

    @Test
    void restoredCopy_isNotAReplica_andIsRefused() throws Exception {
        Path restored = dir.resolve("copy").resolve("restored.db");
        Files.createDirectories(restored.getParent());
        Restore.run(storage, restored, RestoreTarget.latest());
        Map<String, byte[]> before = contents(restored.getParent());

        assertThatThrownBy(() -> Replica.open(storage, restored)).isInstanceOf(ForeignFileException.class);
        assertUnchanged(restored.getParent(), before);
    }

    @Test
    void crashedPrimarysDatabase_isNeverMoved_evenWhenReplacingIsAllowed() throws Exception {
        Path crashed = dir.resolve("crashed");
        Files.createDirectories(crashed);
        // an ASYNC primary that dies with commits only in its WAL: its files as the crash left them
        PrimaryOptions async = PrimaryOptions.async().toBuilder().flushInterval(Duration.ofHours(1))
                .flushBytes(64L << 20).checkpointFrames(1_000_000).build();
        MemoryStorage own = new MemoryStorage();
        try (Primary primary = Primary.open(own, dir.resolve("live.db"), async)) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            for (int i = 1; i <= 101; i++) {
                int v = i;
                primary.write(conn -> exec(conn, "insert into t values (" + v + ")"));
            }
            for (String suffix : List.of("", "-wal", "-walship.checkpoint")) {
                Files.copy(dir.resolve("live.db" + suffix), crashed.resolve("app.db" + suffix));
            }
        }
        Map<String, byte[]> before = contents(crashed);
        Path app = crashed.resolve("app.db");

        for (boolean replace : List.of(false, true)) {
            assertThatThrownBy(() -> Replica.open(own, app,
                    ReplicaOptions.builder().replaceForeignFile(replace).build()))
                    .isInstanceOfSatisfying(ForeignFileException.class,
                            e -> assertThat(e.kind()).isEqualTo(ForeignFileException.Kind.PRIMARY_DATABASE))
                    .hasMessageContaining("never moved");
            assertUnchanged(crashed, before);
        }
        try (Primary reopened = Primary.open(own, app, PrimaryOptions.durable())) {
            assertThat(queryLong(reopened, "select count(*) from t")).as("the 101 unstored commits").isEqualTo(101);
        }
    }

    @Test
    void replicaOfAnotherStorage_isRefused_andRestoredFromThisOneWhenAsked() throws Exception {
        MemoryStorage other = new MemoryStorage();
        try (Primary primary = Primary.open(other, dir.resolve("other.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table u(y)")).get();
            for (int i = 0; i < 9; i++) {
                primary.write(conn -> exec(conn, "insert into u values (7)")).get();
            }
        }
        Path path = dir.resolve("replica.db");
        Replica.open(other, path).close();
        Map<String, byte[]> before = contents(dir);

        assertThatThrownBy(() -> Replica.open(storage, path))
                .isInstanceOfSatisfying(ForeignFileException.class,
                        e -> assertThat(e.kind()).isEqualTo(ForeignFileException.Kind.OTHER_HISTORY))
                .hasMessageContaining("another history");
        assertUnchanged(dir, before);

        try (Replica replica = Replica.open(storage, path, ReplicaOptions.builder().replaceForeignFile(true).build())) {
            assertThat(q(replica, "select sum(x) from t")).isEqualTo(15);
        }
    }

    /** Regression: a replica stopped longer than retention found nothing at its next txid and stood still, silently. */
    @Test
    void replicaOlderThanWhatStorageKeeps_isRestoredAfresh() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-05-01T00:00:00Z"));
        MemoryStorage aging = new MemoryStorage(clock);
        PrimaryOptions options = PrimaryOptions.builder().clock(clock).compaction(null).build();
        Path replicaPath = dir.resolve("stale.db");
        try (Primary primary = Primary.open(aging, dir.resolve("aging.db"), options)) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            Replica.open(aging, replicaPath).close(); // at txid 1, then stopped
            for (int day = 0; day < 10; day++) {
                clock.advance(Duration.ofDays(1));
                primary.write(conn -> exec(conn, "insert into t values (1)")).get();
                primary.snapshot();
            }
        }
        clock.advance(Duration.ofHours(1));
        new Compactor(aging, CompactionPolicy.defaults().withRetention(Duration.ofDays(3)), clock, dir).run();
        assertThat(aging.get(ObjectKey.segment(2))).as("the stale replica's next txid expired").isEmpty();

        try (Replica replica = Replica.open(aging, replicaPath)) {
            assertThat(replica.txid()).isEqualTo(11);
            assertThat(q(replica, "select count(*) from t")).isEqualTo(10);
        }
    }
}
