package io.walship.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.Storage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

/**
 * What a primary's process leaves when it dies with committed, stored transactions still in
 * its WAL: the files are copied while the primary runs (checkpoints held off, no write under
 * way) and put back over what its clean close left. The copies are new inodes, so the next
 * open cannot vouch for the database file by its fingerprint and reads it whole.
 */
public final class CrashImage {
    public static final String DATABASE = "app.db";
    public static final String WAL = "app.db-wal";
    public static final String RECORD = "app.db-walship.checkpoint";
    /** Everything a crash leaves. */
    public static final List<String> ALL = List.of(DATABASE, WAL, RECORD);
    private static final Duration FOLD_BOUND = Duration.ofSeconds(30);

    private CrashImage() {
    }

    /**
     * After an open on an image of {@code rows} rows: they are all there (txids 1..rows + 1), and
     * after one more write, storage restored on its own equals the primary's file byte for byte.
     */
    public static void assertEveryRowAndStorageAgrees(Primary primary, Storage storage, Path dir, int rows)
            throws Exception {
        assertThat(primary.txid()).isEqualTo(rows + 1);
        assertThat(Rows.queryLong(primary, "select sum(x) from t")).isEqualTo((long) rows * (rows + 1) / 2);
        primary.write(conn -> Rows.exec(conn, "insert into t values (1000)"));
        assertStorageEqualsFile(primary, storage, dir);
    }

    /** Once everything is stored and folded, storage restored on its own equals the primary's file byte for byte. */
    public static void assertStorageEqualsFile(Primary primary, Storage storage, Path dir) throws Exception {
        assertThat(primary.flush().get()).isEqualTo(primary.txid());
        fold(primary);
        RestoreResult restored = Restore.run(storage, dir.resolve("check-" + primary.txid() + ".db"),
                RestoreTarget.latest());
        assertThat(Files.readAllBytes(restored.path())).isEqualTo(Files.readAllBytes(primary.path()));
    }

    /**
     * Folds the WAL, trying again while {@link Primary#checkpoint()} says it cannot now: a
     * scheduled snapshot still reading the WAL holds folds off, as documented (FoldRaceTest's log
     * passes 1 MiB near its end, and CI's final fold once met that snapshot). A fold that never
     * runs again still fails the test.
     */
    public static void fold(Primary primary) throws Exception {
        long deadline = System.nanoTime() + FOLD_BOUND.toNanos();
        while (!primary.checkpoint()) {
            assertThat(System.nanoTime() - deadline).as("a fold within " + FOLD_BOUND).isNegative();
            Thread.sleep(10);
        }
    }

    /**
     * Creates table {@code t(x)} and inserts {@code 1..rows} (txids 1..rows + 1), then leaves
     * {@code names} as they were before the close.
     */
    public static void of(Storage storage, Path dir, int rows, List<String> names) throws Exception {
        PrimaryOptions noCheckpoints = PrimaryOptions.builder().checkpointFrames(1_000_000).build();
        Path image = dir.resolve("image");
        Files.createDirectories(image);
        try (Primary primary = Primary.open(storage, dir.resolve(DATABASE), noCheckpoints)) {
            primary.write(conn -> Rows.exec(conn, "create table t(x)"));
            for (int i = 1; i <= rows; i++) {
                int value = i;
                primary.write(conn -> Rows.exec(conn, "insert into t values (" + value + ")"));
            }
            primary.flush().get();
            assertThat(Files.size(dir.resolve(WAL))).as("transactions still in the WAL").isPositive();
            for (String name : names) {
                Files.copy(dir.resolve(name), image.resolve(name));
            }
        }
        Files.deleteIfExists(dir.resolve("app.db-shm"));
        for (String name : names) {
            Files.copy(image.resolve(name), dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
