package io.walship.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.OpenOutcome;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.internal.capture.WalReader;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.Rows;
import io.walship.testing.SqliteCli;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL around walship's checkpoint, which leaves the folded frames in the WAL (SQLite's
 * RESTART, ADR 0034) until the next commit writes over them. The next open must take them for
 * what the file already holds: neither read the whole file to find out, nor count them as new
 * commits, nor miss the commits SQLite appended after them.
 */
class FoldedWalCrashTest {

    @TempDir
    Path dir;

    private Path storageDir() {
        return dir.resolve("storage");
    }

    private Path db() {
        return dir.resolve("app.db");
    }

    private Path wal() {
        return dir.resolve("app.db-wal");
    }

    @Test
    void open_afterAKillRightAfterACheckpoint_resumesWithoutReadingTheFileAndAppendsAfterTheFoldedFrames()
            throws Exception {
        long txid = killAfter(1, 50, true);
        long walBytes = Files.size(wal());
        assertThat(walBytes).as("the checkpoint left the folded frames in the WAL").isGreaterThan(32);
        WalReader.Generation salts = salts();

        try (Primary primary = open()) {
            OpenOutcome outcome = primary.openOutcome();
            assertThat(outcome.kind()).isEqualTo(OpenOutcome.Kind.RESUMED);
            assertThat(outcome.fileRead()).as("the record vouches for the file").isFalse();
            assertThat(outcome.walTransactions()).as("folded frames are not commits to ship").isZero();
            assertThat(primary.txid()).isEqualTo(txid);
            for (int value = 51; value <= 60; value++) {
                insert(primary, value);
            }
            assertThat(salts()).as("SQLite appended after the folded frames (its recovery reset the fold)")
                    .isEqualTo(salts);
            assertThat(Files.size(wal())).isGreaterThan(walBytes);
            assertEveryRowAndStorageAgrees(primary, 60);
        }
    }

    /**
     * A checkpoint that copied every frame while a reader held a read mark on the last one is a
     * fold: the record vouches for the file, and the commits SQLite then appends after the folded
     * frames (it cannot start the WAL over under the reader) are the only new ones. Such a
     * checkpoint used to count as busy, leaving the record DIRTY: a kill then cost a read of the
     * whole file at the next open, which readers beside the writes made the usual case.
     */
    @Test
    void open_afterAKillWhenAReaderKeptTheFoldFromRestartingTheWal_resumesWithoutReadingTheFile() throws Exception {
        long txid = KilledWriter.afterDone(FoldThenWait.class, storageDir().toString(), db().toString(), "1", "50",
                "fold-reader-held");

        try (Primary primary = open()) {
            OpenOutcome outcome = primary.openOutcome();
            assertThat(outcome.kind()).isEqualTo(OpenOutcome.Kind.RESUMED);
            assertThat(outcome.fileRead()).as("the record vouches for the file").isFalse();
            assertThat(outcome.walTransactions()).as("the 10 commits after the folded frames").isEqualTo(10);
            assertThat(primary.txid()).isEqualTo(txid);
            assertEveryRowAndStorageAgrees(primary, 60);
        }
        assertThat(SqliteCli.integrityCheck(db())).isEqualTo("ok");
    }

    @Test
    void open_afterAKillWithCommitsAppendedAfterTheFoldedFrames_shipsEachOfThemOnce() throws Exception {
        killAfter(1, 50, true);
        WalReader.Generation salts = salts();
        long txid = killAfter(51, 80, false); // its commits follow the folded frames in the same generation
        assertThat(salts()).isEqualTo(salts);

        try (Primary primary = open()) {
            OpenOutcome outcome = primary.openOutcome();
            assertThat(outcome.kind()).isEqualTo(OpenOutcome.Kind.RESUMED);
            assertThat(outcome.fileRead()).isFalse();
            assertThat(outcome.walTransactions()).as("only the commits after the folded frames").isEqualTo(30);
            assertThat(primary.txid()).isEqualTo(txid);
            assertEveryRowAndStorageAgrees(primary, 80);
        }
        assertThat(SqliteCli.integrityCheck(db())).isEqualTo("ok");
    }

    private Primary open() throws Exception {
        return Primary.open(FileSystemStorage.open(storageDir()), db(), PrimaryOptions.builder().build());
    }

    private static void insert(Primary primary, int value) throws Exception {
        primary.write(conn -> Rows.exec(conn, "insert into t values (" + value + ")"));
    }

    /** Rows 1..rows are there, and once stored and folded, storage restored on its own equals the file. */
    private void assertEveryRowAndStorageAgrees(Primary primary, int rows) throws Exception {
        assertThat(Rows.queryLong(primary, "select sum(x) from t")).isEqualTo((long) rows * (rows + 1) / 2);
        assertThat(primary.flush().get()).isEqualTo(primary.txid());
        assertThat(primary.checkpoint()).isTrue();
        RestoreResult restored = Restore.run(FileSystemStorage.open(storageDir()), dir.resolve("check.db"),
                RestoreTarget.latest());
        assertThat(restored.txid()).isEqualTo(primary.txid());
        assertThat(Files.readAllBytes(restored.path())).isEqualTo(Files.readAllBytes(primary.path()));
    }

    /** Runs {@link FoldThenWait} and SIGKILLs it once it is done; returns its last txid. */
    private long killAfter(int first, int last, boolean fold) throws Exception {
        return KilledWriter.afterDone(FoldThenWait.class, storageDir().toString(), db().toString(),
                Integer.toString(first), Integer.toString(last), fold ? "fold" : "nofold");
    }

    /** The generation (salts) the WAL's header names now. */
    private WalReader.Generation salts() throws Exception {
        try (FileChannel wal = FileChannel.open(wal(), StandardOpenOption.READ)) {
            return WalReader.generationOf(wal);
        }
    }
}
