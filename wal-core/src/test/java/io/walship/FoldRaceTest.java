package io.walship;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.internal.capture.WalReader;
import io.walship.testing.BusyLoad;
import io.walship.testing.CrashImage;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Worker;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Walship's folds (SQLite's RESTART, ADR 0034) while readers come and go, with busy threads
 * beside them. A reader still reading older frames makes a fold busy; one holding a read mark
 * on the last frame lets it copy every frame (a fold) but keeps SQLite from starting the WAL over,
 * and the next commit follows the folded frames in their generation. Whichever happens, every
 * commit is captured once, in order: storage restored on its own equals the primary's file.
 */
class FoldRaceTest {
    private static final Logger log = LoggerFactory.getLogger(FoldRaceTest.class);
    private static final Duration BOUND = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void folds_whileReadersComeAndGo_underLoad_storageEqualsTheFile() throws Exception {
        foldWhileReading(PrimaryOptions.builder());
    }

    /**
     * A snapshot every few dozen commits holds some folds off after they looked at the WAL. One
     * such look between a checkpoint that readers made busy and the next commit made walship take
     * the restart SQLite then makes for another process's, and no fold ran again.
     */
    @Test
    void folds_whileReadersComeAndGoAndSnapshotsRun_underLoad_storageEqualsTheFile() throws Exception {
        foldWhileReading(PrimaryOptions.builder().snapshotAfterLogBytes(48 << 10));
    }

    private void foldWhileReading(PrimaryOptions.Builder builder) throws Exception {
        MemoryStorage storage = new MemoryStorage();
        PrimaryOptions options = builder.checkpointFrames(20).flushInterval(Duration.ofMillis(1)).build();
        int rows = 1_200;
        int folds = 0;
        int followed = 0;
        try (BusyLoad load = BusyLoad.start(2);
             Primary primary = Primary.open(storage, dir.resolve(CrashImage.DATABASE), options)) {
            primary.write(conn -> exec(conn, "create table t(n int, b blob)")).get(BOUND);
            AtomicBoolean stop = new AtomicBoolean();
            List<Worker> readers = List.of(reader(primary, stop), reader(primary, stop));
            try {
                for (int i = 1; i <= rows; i++) {
                    int n = i;
                    primary.write(conn -> exec(conn, "insert into t values (" + n + ", randomblob(200))"));
                    if (i % 20 == 0 && i < rows && primary.checkpoint()) {
                        folds++;
                        WalReader.Generation folded = salts();
                        i++;
                        int next = i;
                        primary.write(conn -> exec(conn, "insert into t values (" + next + ", randomblob(200))"));
                        followed += salts().equals(folded) ? 1 : 0;
                    }
                }
            } finally {
                stop.set(true);
                for (Worker reader : readers) {
                    reader.join(BOUND);
                }
            }
            log.info("folds={} commits that followed the folded frames={}", folds, followed);
            assertThat(folds).as("checkpoints that folded").isPositive();
            assertThat(queryLong(primary, "select sum(n) from t")).isEqualTo((long) rows * (rows + 1) / 2);
            CrashImage.assertStorageEqualsFile(primary, storage, dir);
            assertThat(primary.resyncs()).as("walship's own commits, never taken for another process's").isZero();
        }
    }

    /**
     * Readers whose read marks a fold finds on the last frame, and which end a few milliseconds
     * later: the fold waits for them, so the next commit starts the WAL over. Otherwise readers
     * that keep overlapping keep SQLite from ever starting it over, and the WAL grows without
     * bound (to 0.2-0.9 GB in 20 s of inserts beside two reading threads, as plain SQLite's
     * does; bounded near 40 MB since).
     */
    @Test
    void fold_whileReadersEndWithinMilliseconds_startsTheWalOverAtTheNextCommit() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        PrimaryOptions options = PrimaryOptions.builder().checkpointFrames(1_000_000).build();
        int trials = 20;
        int restarted = 0;
        try (BusyLoad load = BusyLoad.start(2);
             Primary primary = Primary.open(storage, dir.resolve(CrashImage.DATABASE), options);
             Connection reader = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(CrashImage.DATABASE))) {
            primary.write(conn -> exec(conn, "create table t(n int)")).get(BOUND);
            for (int trial = 1; trial <= trials; trial++) {
                int n = trial;
                primary.write(conn -> exec(conn, "insert into t values (" + n + ")")).get(BOUND);
                reader.setAutoCommit(false);
                queryLong(reader, "select count(*) from t"); // a read mark on the last frame
                Worker ending = Worker.start("ending reader", () -> {
                    Thread.sleep(8);
                    reader.rollback();
                });
                assertThat(primary.checkpoint()).as("every frame copied").isTrue();
                WalReader.Generation folded = salts();
                primary.write(conn -> exec(conn, "insert into t values (0)")).get(BOUND);
                restarted += salts().equals(folded) ? 0 : 1;
                ending.join(BOUND);
                reader.setAutoCommit(true);
            }
            log.info("commits that started the WAL over after a fold under an ending reader: {} of {}", restarted,
                    trials);
            assertThat(restarted).as("most of them, whatever the load").isGreaterThanOrEqualTo(trials / 2);
            CrashImage.assertStorageEqualsFile(primary, storage, dir);
        }
    }

    private static Worker reader(Primary primary, AtomicBoolean stop) {
        return Worker.start("reader", () -> {
            while (!stop.get()) {
                primary.read(conn -> queryLong(conn, "select count(*) from t"));
            }
        });
    }

    /** The generation (salts) the WAL's header names now. */
    private WalReader.Generation salts() throws Exception {
        try (FileChannel wal = FileChannel.open(dir.resolve(CrashImage.WAL), StandardOpenOption.READ)) {
            return WalReader.generationOf(wal);
        }
    }
}
