package io.walship;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.internal.capture.WalLayout;
import io.walship.internal.capture.WalReader;
import io.walship.internal.capture.WalTransaction;
import io.walship.internal.log.DatabaseChecksum;
import io.walship.internal.log.DatabaseImage;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.LogLookup;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.Position;
import io.walship.internal.log.StoredLog;
import io.walship.storage.ObjectInfo;
import io.walship.testing.CrashImage;
import io.walship.testing.FaultyStorage;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Rows;
import io.walship.testing.SqliteCli;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Primary#open} on each way a crash, a power cut or an operator can leave the local
 * file: which {@link OpenOutcome} it reports, what it cost, and that the database then holds
 * exactly storage's history plus what the file had beyond it.
 */
class ResumeTest {
    @TempDir
    Path dir;

    private final MemoryStorage storage = new MemoryStorage();

    private Path db() {
        return dir.resolve(CrashImage.DATABASE);
    }

    private Path wal() {
        return dir.resolve(CrashImage.WAL);
    }

    private static void insert(Primary primary, long value) throws SQLException {
        primary.write(conn -> exec(conn, "insert into t values (" + value + ")"));
    }

    private List<Path> movedAside() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().matches("app\\.db\\.diverged-\\d+")).sorted()
                    .toList();
        }
    }

    private void markRecordDirty() throws Exception {
        try (CheckpointRecord record = CheckpointRecord.open(db(), CheckpointRecord.read(db()).orElseThrow().header())) {
            record.markDirty();
        }
    }

    private List<Long> segments() {
        return storage.list(ObjectKey.LOG_PREFIX).stream().map(o -> ObjectKey.parseSegment(o.key()))
                .flatMap(Optional::stream).sorted().toList();
    }

    // ---------------------------------------------------------------- resuming

    @Test
    void open_afterCloseWithStorageDown_resumesWithoutReadingTheFileAndShipsTheRest() throws Exception {
        FaultyStorage faulty = new FaultyStorage(storage, 1);
        PrimaryOptions options = PrimaryOptions.builder().closeTimeout(Duration.ofMillis(200))
                .retryInitialBackoff(Duration.ofMillis(5)).retryMaxBackoff(Duration.ofMillis(20)).build();
        try (Primary primary = Primary.open(faulty, db(), options)) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            for (int i = 1; i <= 5; i++) {
                insert(primary, i);
            }
            primary.flush().get();
            faulty.failPuts(1.0, 0);
            for (int i = 6; i <= 10; i++) {
                insert(primary, i); // committed, never stored
            }
        }

        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            OpenOutcome outcome = primary.openOutcome();
            assertThat(outcome.kind()).isEqualTo(OpenOutcome.Kind.RESUMED);
            assertThat(outcome.fileRead()).as("the checkpoint record vouched for the file").isFalse();
            assertThat(outcome.storedTxid()).isEqualTo(6);
            assertThat(outcome.unshippedTransactions()).isEqualTo(5);
            assertThat(primary.txid()).isEqualTo(11);
            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(55);
            CrashImage.assertStorageEqualsFile(primary, storage, dir);
        }
        assertThat(movedAside()).isEmpty();
    }

    @Test
    void open_checkpointCutShortWithWalIntact_readsTheFileAndResumes() throws Exception {
        CrashImage.of(storage, dir, 20, CrashImage.ALL);
        markRecordDirty();
        // SQLite had copied part of the WAL into the file when the process died
        try (FileChannel walChannel = FileChannel.open(wal(), StandardOpenOption.READ);
             FileChannel file = FileChannel.open(db(), StandardOpenOption.WRITE)) {
            WalReader reader = new WalReader(walChannel, 4096);
            List<Long> commits = WalReader.scan(walChannel, 4096).commitFrames();
            WalTransaction half = null;
            for (long frames : commits.subList(0, 10)) {
                half = reader.readTransaction(frames);
            }
            half.forEachPage((pgno, walOffset, buffer, offset) ->
                    file.write(buffer.duplicate().position(offset).limit(offset + 4096), (long) (pgno - 1) * 4096));
        }

        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThat(primary.openOutcome().kind()).isEqualTo(OpenOutcome.Kind.RESUMED);
            assertThat(primary.openOutcome().fileRead()).isTrue();
            assertThat(primary.openOutcome().walTransactions()).isEqualTo(21);
            CrashImage.assertEveryRowAndStorageAgrees(primary, storage, dir, 20);
        }
        assertThat(movedAside()).isEmpty();
    }

    @Test
    void open_checkpointFinishedButRecordNotWritten_findsTheStoredStateByItsChecksum() throws Exception {
        CrashImage.of(storage, dir, 20, CrashImage.ALL);
        markRecordDirty();
        LocalFile.fold(db()); // the checkpoint completed; the process died before the record was written

        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThat(primary.openOutcome().kind()).isEqualTo(OpenOutcome.Kind.RESUMED);
            assertThat(primary.openOutcome().fileRead()).isTrue();
            assertThat(primary.openOutcome().walTransactions()).isZero();
            CrashImage.assertEveryRowAndStorageAgrees(primary, storage, dir, 20);
        }
        // the record now vouches for the file again
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThat(primary.openOutcome().fileRead()).isFalse();
        }
    }

    @Test
    void open_withoutCheckpointRecord_findsTheFileInStoragesHistoryThroughTheWal() throws Exception {
        CrashImage.of(storage, dir, 20, List.of(CrashImage.DATABASE, CrashImage.WAL));
        Files.delete(dir.resolve(CrashImage.RECORD)); // as a file from before the record existed

        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThat(primary.openOutcome().kind()).isEqualTo(OpenOutcome.Kind.RESUMED);
            assertThat(primary.openOutcome().fileRead()).isTrue();
            CrashImage.assertEveryRowAndStorageAgrees(primary, storage, dir, 20);
        }
        assertThat(movedAside()).isEmpty();
    }

    /**
     * Regression: close() interrupted the maintenance thread, and a thread interrupted in
     * FileChannel I/O closes the channel: a checkpoint or snapshot under way there closed the
     * checkpoint record (or the WAL) under the final checkpoint, so the next open had to read
     * the whole file.
     */
    @Test
    void close_whileSnapshotsAndCheckpointsRunInTheBackground_leavesARecordTheNextOpenTrusts() throws Exception {
        PrimaryOptions busy = PrimaryOptions.builder().durability(Durability.ASYNC)
                .flushInterval(Duration.ofMillis(1)).checkpointFrames(20).snapshotAfterLogBytes(1).build();
        try (Primary primary = Primary.open(storage, db(), busy)) {
            primary.write(conn -> exec(conn, "create table t(x, y)"));
        }
        for (int round = 0; round < 25; round++) {
            try (Primary primary = Primary.open(storage, db(), busy)) {
                assertThat(primary.openOutcome().fileRead()).as("round %d: %s", round, primary.openOutcome())
                        .isFalse();
                for (int i = 0; i < 200; i++) {
                    int value = i;
                    primary.write(conn -> exec(conn, "insert into t values (" + value + ", randomblob(900))"));
                }
            }
        }
    }

    // ---------------------------------------------------------------- catching up

    /** Power-loss emulation: SQLite lost the WAL's tail (synchronous=NORMAL) after it was stored. */
    @Test
    void open_walTailLost_catchesUpFromStorageWritingOnlyTheMissingPages() throws Exception {
        CrashImage.of(storage, dir, 20, CrashImage.ALL);
        long pagesInFile;
        try (FileChannel walChannel = FileChannel.open(wal(), StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            long eighth = WalReader.scan(walChannel, 4096).commitFrames().get(7);
            walChannel.truncate(WalLayout.frameOffset(eighth, 4096) + 100); // a torn frame after commit 8
        }

        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            OpenOutcome outcome = primary.openOutcome();
            assertThat(outcome.kind()).isEqualTo(OpenOutcome.Kind.CAUGHT_UP);
            assertThat(outcome.walTransactions()).isEqualTo(8);
            assertThat(outcome.appliedTransactions()).isEqualTo(13);
            pagesInFile = Files.size(db()) / 4096;
            assertThat(outcome.pagesWritten()).as("pages of 13 one-row inserts").isBetween(13L, 26L);
            CrashImage.assertEveryRowAndStorageAgrees(primary, storage, dir, 20);
        }
        assertThat(pagesInFile).isPositive();
        assertThat(movedAside()).isEmpty();
        assertThat(SqliteCli.integrityCheck(db())).isEqualTo("ok");
    }

    @Test
    void open_catchUpCutShortLeavingATornFile_writesTheStoredLogAgain() throws Exception {
        CrashImage.of(storage, dir, 20, CrashImage.ALL);
        Files.delete(wal());
        DatabaseChecksum before;
        try (FileChannel channel = FileChannel.open(db(), StandardOpenOption.READ)) {
            before = DatabaseChecksum.of(channel, 4096);
        }
        Position latest = LogLookup.latestPosition(storage).orElseThrow();
        // the catch-up's record, then part of its writes: txids 1..10 whole, then half a page of 15
        CheckpointRecord.create(db(), 0, before, latest.txid()).close();
        try (StoredLog stored = StoredLog.after(storage, LogCatalog.list(storage), 0, latest, dir);
             DatabaseImage image = DatabaseImage.open(db(), before.copy(), 0)) {
            for (int i = 1; i <= 10; i++) {
                stored.applyTo(image, stored.next(), true);
            }
            for (int i = 11; i < 15; i++) {
                stored.next();
            }
            stored.next();
            stored.readPages((pgno, image15) -> {
                try (FileChannel file = FileChannel.open(db(), StandardOpenOption.WRITE)) {
                    file.write(ByteBuffer.wrap(image15, 0, 2048), (long) (pgno - 1) * 4096); // a torn page write
                }
            });
        }

        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThat(primary.openOutcome().kind()).isEqualTo(OpenOutcome.Kind.CAUGHT_UP);
            assertThat(primary.openOutcome().fileRead()).isTrue();
            assertThat(primary.openOutcome().appliedTransactions()).as("the whole stored log, written again")
                    .isEqualTo(21);
            assertThat(primary.txid()).isEqualTo(21);
            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(210);
            CrashImage.assertStorageEqualsFile(primary, storage, dir);
        }
        assertThat(movedAside()).isEmpty();
        assertThat(SqliteCli.integrityCheck(db())).isEqualTo("ok");
    }

    // ---------------------------------------------------------------- rebuilding

    @Test
    void open_storageTakenOverByAnotherPrimary_movesTheFileAsideKeepingItsUnshippedRows() throws Exception {
        FaultyStorage faulty = new FaultyStorage(storage, 2);
        PrimaryOptions options = PrimaryOptions.builder().closeTimeout(Duration.ofMillis(200))
                .retryInitialBackoff(Duration.ofMillis(5)).retryMaxBackoff(Duration.ofMillis(20)).build();
        try (Primary a = Primary.open(faulty, db(), options)) {
            a.write(conn -> exec(conn, "create table t(x)"));
            insert(a, 1);
            a.flush().get();
            faulty.failPuts(1.0, 0);
            insert(a, 100); // never stored
        }
        try (Primary b = Primary.open(storage, dir.resolve("b.db"), PrimaryOptions.durable())) {
            insert(b, 200);
            insert(b, 201);
            b.flush().get();
        }

        try (Primary a = Primary.open(storage, db(), PrimaryOptions.durable())) {
            OpenOutcome outcome = a.openOutcome();
            assertThat(outcome.kind()).isEqualTo(OpenOutcome.Kind.REBUILT);
            assertThat(outcome.reason()).contains("another history");
            assertThat(outcome.movedAside()).isPresent();
            assertThat(queryLong(a, "select sum(x) from t")).isEqualTo(402);
            CrashImage.assertStorageEqualsFile(a, storage, dir);
        }
        assertThat(movedAside()).hasSize(1);
        assertThat(Rows.queryLong(movedAside().get(0), "select sum(x) from t")).as("the copy keeps row 100")
                .isEqualTo(101);
    }

    @Test
    void open_storageLostItsNewestTransactions_movesTheFileAsideAndRebuilds() throws Exception {
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            for (int i = 1; i <= 10; i++) {
                int value = i;
                primary.write(conn -> exec(conn, "insert into t values (" + value + ")")).get(); // a segment each
            }
        }
        for (ObjectInfo object : storage.list(ObjectKey.LOG_PREFIX)) {
            if (ObjectKey.parseSegment(object.key()).orElseThrow() > 6) {
                storage.delete(object.key()); // an operator restored an older copy of the bucket
            }
        }

        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThat(primary.openOutcome().kind()).isEqualTo(OpenOutcome.Kind.REBUILT);
            assertThat(primary.openOutcome().reason()).contains("is at txid 11 but storage ends at txid 6");
            assertThat(primary.txid()).isEqualTo(6);
            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(15);
        }
        assertThat(movedAside()).hasSize(1);
    }

    @Test
    void open_divergedMoreOftenThanKept_keepsOnlyTheNewestCopies() throws Exception {
        PrimaryOptions keepTwo = PrimaryOptions.builder().keepDivergedCopies(2).build();
        try (Primary primary = Primary.open(storage, db(), keepTwo)) {
            primary.write(conn -> exec(conn, "create table t(x)"));
        }
        for (int round = 1; round <= 4; round++) {
            SqliteCli.run(db(), "insert into t values (" + round + ");"); // changed while closed
            try (Primary primary = Primary.open(storage, db(), keepTwo)) {
                assertThat(primary.openOutcome().kind()).isEqualTo(OpenOutcome.Kind.REBUILT);
            }
        }
        List<Path> copies = movedAside();
        assertThat(copies).hasSize(2);
        List<Long> sums = new java.util.ArrayList<>();
        for (Path copy : copies) {
            sums.add(Rows.queryLong(copy, "select sum(x) from t"));
        }
        assertThat(sums).as("the two newest copies").containsExactlyInAnyOrder(3L, 4L);

        SqliteCli.run(db(), "insert into t values (5);");
        try (Primary primary = Primary.open(storage, db(), keepTwo.toBuilder().keepDivergedCopies(0).build())) {
            assertThat(primary.openOutcome().movedAside()).isEmpty();
        }
        assertThat(movedAside()).isEmpty();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".diverged-"));
        }
    }

    @Test
    void keepDivergedCopies_negative_isRefused() {
        assertThatThrownBy(() -> PrimaryOptions.builder().keepDivergedCopies(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keepDivergedCopies");
    }
}
