package io.walship;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.testing.MemoryStorage;
import io.walship.testing.SqliteCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Other processes and operators touching the primary's files: writing with the sqlite3 CLI,
 * deleting the -wal, switching the journal mode. Each is detected and answered with a shipped
 * difference, a rebuild from storage (the local file moved aside, never deleted) or SQLite's
 * own refusal; storage and the primary never silently diverge.
 */
class ExternalInterferenceTest {
    @TempDir
    Path dir;

    private final MemoryStorage storage = new MemoryStorage();

    private Path db() {
        return dir.resolve("app.db");
    }

    private Path wal() {
        return dir.resolve("app.db-wal");
    }

    private static void insert(Primary primary, int value) throws SQLException {
        primary.write(conn -> exec(conn, "insert into t values (" + value + ")"));
    }

    private List<Path> movedAside() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().matches("app\\.db\\.diverged-\\d+")).toList();
        }
    }

    /** A primary created table t, stored the row 1 and was closed. */
    private void storedOneRowAndClosed() throws Exception {
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            insert(primary, 1);
        }
    }

    /** Storage restored on its own equals the primary's file byte for byte. */
    private void assertStorageEqualsPrimary(Primary primary) throws Exception {
        primary.flush().get();
        primary.checkpoint();
        RestoreResult restored = Restore.run(storage, dir.resolve("check-" + primary.txid() + ".db"),
                RestoreTarget.latest());
        assertThat(Files.readAllBytes(restored.path())).isEqualTo(Files.readAllBytes(db()));
    }

    /**
     * What a SIGKILL leaves: the database and its -wal holding committed, stored transactions
     * that were never checkpointed. Taken while no write runs, with checkpoints held off.
     */
    private void crashImage(int rows) throws Exception {
        PrimaryOptions noCheckpoints = PrimaryOptions.builder().checkpointFrames(1_000_000).build();
        Path image = dir.resolve("image");
        Files.createDirectories(image);
        try (Primary primary = Primary.open(storage, db(), noCheckpoints)) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            for (int i = 1; i <= rows; i++) {
                insert(primary, i);
            }
            primary.flush().get();
            assertThat(Files.size(wal())).as("transactions still in the WAL").isPositive();
            Files.copy(db(), image.resolve("app.db"));
            Files.copy(wal(), image.resolve("app.db-wal"));
        }
        Files.deleteIfExists(dir.resolve("app.db-shm"));
        Files.copy(image.resolve("app.db"), db(), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(image.resolve("app.db-wal"), wal(), StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void open_localFileChangedWhileClosed_movesItAsideAndRebuildsFromStorage() throws Exception {
        storedOneRowAndClosed();
        SqliteCli.run(db(), "insert into t values (666);");

        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(1);
            assertThat(primary.txid()).isEqualTo(2);
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> aside = files.filter(p -> p.getFileName().toString().matches("app\\.db\\.diverged-\\d+"))
                    .toList();
            assertThat(aside).hasSize(1);
            assertThat(queryLong(aside.get(0), "select sum(x) from t")).isEqualTo(667);
        }
    }


    @Test
    void write_afterAnotherProcessWroteTheDatabase_shipsTheDifference() throws Exception {
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            insert(primary, 1);
            assertThat(SqliteCli.run(db(), "insert into t values (1000);")).isEmpty();
            insert(primary, 2);
            primary.flush().get();
            assertThat(primary.resyncs()).isEqualTo(1);
            insert(primary, 3);
            assertThat(SqliteCli.run(db(), "pragma wal_checkpoint(truncate); insert into t values (20000);"))
                    .startsWith("0|");
            insert(primary, 4);
            primary.flush().get();
            assertThat(primary.resyncs()).isEqualTo(2);
            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(21010);
        }
        RestoreResult restored = Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest());
        assertThat(queryLong(restored.path(), "select sum(x) from t")).isEqualTo(21010);
        assertThat(Files.readAllBytes(restored.path())).isEqualTo(Files.readAllBytes(db()));
    }

    @Test
    void open_afterCrashWithWalIntact_foldsTheWalAndKeepsTheFile() throws Exception {
        crashImage(20);

        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThat(primary.txid()).isEqualTo(21);
            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(210);
            insert(primary, 1000);
            assertStorageEqualsPrimary(primary);
        }
        assertThat(movedAside()).isEmpty();
    }

    @Test
    void open_afterCrashWithWalDeleted_movesFileAsideAndRebuildsEveryStoredTransaction() throws Exception {
        crashImage(20);
        Files.delete(wal()); // the operator "cleans up" before restarting

        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThat(primary.txid()).isEqualTo(21);
            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(210);
            insert(primary, 1000);
            assertStorageEqualsPrimary(primary);
        }
        assertThat(movedAside()).as("the WAL-less file is kept for the operator").hasSize(1);
        assertThat(SqliteCli.integrityCheck(db())).isEqualTo("ok");
    }

    @Test
    void open_journalModeSwitchedToDeleteWhileClosed_rebuildsInWalMode() throws Exception {
        storedOneRowAndClosed();
        assertThat(SqliteCli.run(db(), "pragma journal_mode=delete;")).isEqualTo("delete");

        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            String mode = primary.read(conn -> {
                try (var s = conn.createStatement(); var rs = s.executeQuery("pragma journal_mode")) {
                    return rs.getString(1);
                }
            });
            assertThat(mode).isEqualTo("wal");
            insert(primary, 2);
            assertStorageEqualsPrimary(primary);
        }
        // The switch rewrote header fields of page 1 (file format versions, change counter), so the
        // file no longer matches storage's checksum: it is treated like any other outside change.
        assertThat(movedAside()).hasSize(1);
    }

    @Test
    void open_journalModeSwitchedAndWrittenWhileClosed_movesFileAsideAndRebuilds() throws Exception {
        storedOneRowAndClosed();
        SqliteCli.run(db(), "pragma journal_mode=delete; insert into t values (666);");

        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(1);
            assertStorageEqualsPrimary(primary);
        }
        assertThat(movedAside()).hasSize(1);
        assertThat(queryLong(movedAside().get(0), "select sum(x) from t")).isEqualTo(667);
    }

    @Test
    void journalModeSwitchFromAnotherProcess_whileOpen_isRefusedBySqliteAndCaptureGoesOn() throws Exception {
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            insert(primary, 1);

            String answer = SqliteCli.run(db(), "pragma journal_mode=delete;");

            assertThat(answer).as("sqlite3 cannot leave WAL mode while the primary holds the file")
                    .containsAnyOf("locked", "wal");
            insert(primary, 2);
            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(3);
            assertStorageEqualsPrimary(primary);
        }
    }
}
