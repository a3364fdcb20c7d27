package io.walship.internal.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

/**
 * Reads WAL files written by real SQLite (through sqlite-jdbc), copied aside while the writer
 * still has them open, then damaged one way per test.
 */
class WalReaderTest {
    private static final int PAGE = 4096;

    @TempDir
    Path dir;

    private final List<Integer> commits = new CopyOnWriteArrayList<>();
    private byte[] wal;

    @BeforeEach
    void writeWal() throws Exception {
        SQLiteConfig config = new SQLiteConfig();
        config.enableLoadExtension(true);
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setCacheSize(2); // spill pages mid-transaction: the same page lands in the WAL twice
        Path db = dir.resolve("w.db");
        try (Connection conn = config.createConnection("jdbc:sqlite:" + db)) {
            long token = WalHook.attach(conn, commits::add);
            try (Statement s = conn.createStatement()) {
                s.execute("create table t(x, y)");
                s.execute("insert into t select value, randomblob(300) from generate_series(1, 200)");
                conn.setAutoCommit(false);
                s.execute("update t set y = randomblob(300)");
                s.execute("update t set y = randomblob(301)");
                conn.commit();
                conn.setAutoCommit(true);
            } catch (SQLException e) {
                // generate_series is not in every build: fall back to a recursive CTE
                try (Statement s = conn.createStatement()) {
                    s.execute("insert into t with recursive n(v) as (select 1 union all select v + 1 from n"
                            + " where v < 200) select v, randomblob(300) from n");
                    conn.setAutoCommit(false);
                    s.execute("update t set y = randomblob(300)");
                    s.execute("update t set y = randomblob(301)");
                    conn.commit();
                    conn.setAutoCommit(true);
                }
            }
            wal = Files.readAllBytes(dir.resolve("w.db-wal"));
            WalHook.detach(conn, token);
        }
        assertThat(commits).hasSize(3);
    }

    private WalReader reader(byte[] bytes) throws IOException {
        return new WalReader(channel(bytes), PAGE);
    }

    /** The bytes as a WAL file of its own, opened for reading. */
    private FileChannel channel(byte[] bytes) throws IOException {
        Path copy = Files.createTempFile(dir, "copy", "-wal");
        Files.write(copy, bytes);
        return FileChannel.open(copy, StandardOpenOption.READ);
    }

    /** Runs {@code statements} on a new WAL database {@code name}, keeping a copy of its WAL after each insert. */
    private List<byte[]> walsAfterInserts(String name, String... statements) throws Exception {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        List<byte[]> wals = new java.util.ArrayList<>();
        try (Connection conn = config.createConnection("jdbc:sqlite:" + dir.resolve(name));
             Statement s = conn.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
                if (sql.startsWith("insert")) {
                    wals.add(Files.readAllBytes(dir.resolve(name + "-wal")));
                }
            }
        }
        return wals;
    }

    private static void setInt(byte[] bytes, int offset, int value) {
        ByteBuffer.wrap(bytes).putInt(offset, value);
    }

    /** Every page a transaction visits, in visit order: pgno, its WAL offset and the image handed over. */
    private record Visited(int pgno, long walOffset, byte[] image) {
    }

    private static List<Visited> visit(WalTransaction txn) throws IOException {
        List<Visited> visited = new java.util.ArrayList<>();
        txn.forEachPage((pgno, walOffset, buffer, offset) -> {
            byte[] image = new byte[PAGE];
            buffer.get(offset, image);
            visited.add(new Visited(pgno, walOffset, image));
        });
        return visited;
    }

    /**
     * What a transaction must visit, computed from the WAL's bytes on their own: for each page
     * up to the database size after commit, its last image among frames [from, to).
     */
    private static java.util.TreeMap<Integer, Long> lastImages(byte[] wal, long from, long to) {
        java.util.TreeMap<Integer, Long> last = new java.util.TreeMap<>();
        int commitSize = 0;
        for (long frame = from; frame < to; frame++) {
            int at = (int) WalLayout.frameOffset(frame, PAGE);
            last.put(ByteBuffer.wrap(wal).getInt(at + WalLayout.FRAME_PGNO_OFFSET), at + (long) WalLayout.FRAME_HEADER_SIZE);
            commitSize = ByteBuffer.wrap(wal).getInt(at + WalLayout.FRAME_DB_SIZE_OFFSET);
        }
        last.tailMap(commitSize, false).clear();
        return last;
    }

    private static void assertVisitsLastImages(WalTransaction txn, byte[] wal, long from, long to) throws IOException {
        java.util.TreeMap<Integer, Long> expected = lastImages(wal, from, to);
        List<Visited> visited = visit(txn);
        assertThat(visited.stream().map(Visited::pgno).toList()).as("each page once, in order")
                .containsExactlyElementsOf(expected.keySet());
        assertThat(txn.pageCount()).isEqualTo(expected.size());
        for (Visited v : visited) {
            assertThat(v.walOffset()).as("page %d: its last frame", v.pgno()).isEqualTo(expected.get(v.pgno()));
            assertThat(v.image()).as("page %d: the image in that frame", v.pgno())
                    .isEqualTo(Arrays.copyOfRange(wal, (int) v.walOffset(), (int) v.walOffset() + PAGE));
        }
    }

    @Test
    void readTransaction_eachCommit_visitsItsPagesOnceInOrder() throws IOException {
        WalReader reader = reader(wal);
        long previousFrames = 0;
        for (int frames : commits) {
            WalTransaction txn = reader.readTransaction(frames);
            assertThat(txn.databasePages()).isPositive();
            assertVisitsLastImages(txn, wal, previousFrames, frames);
            previousFrames = frames;
        }
        assertThat(reader.framesRead()).isEqualTo(commits.get(2).longValue());
    }

    /** One read takes the frames of the commits queued behind: each is visited as if read alone. */
    @Test
    void readTransaction_readingAheadToLaterCommits_visitsTheSameLastImages() throws IOException {
        WalReader reader = reader(wal);
        long last = commits.get(2);
        long previousFrames = 0;
        for (int frames : commits) {
            assertVisitsLastImages(reader.readTransaction(frames, null, last), wal, previousFrames, frames);
            previousFrames = frames;
        }
    }

    /** Frames read ahead are checked when their own commit is read, not before: the earlier commits stand. */
    @Test
    void readTransaction_damagedFrameReadAhead_throwsInterferenceAtItsOwnCommit() throws IOException {
        byte[] bytes = wal.clone();
        bytes[(int) WalLayout.frameOffset(commits.get(1), PAGE) + WalLayout.FRAME_HEADER_SIZE + 100] ^= 1;
        WalReader reader = reader(bytes);
        long last = commits.get(2);

        assertVisitsLastImages(reader.readTransaction(commits.get(0), null, last), bytes, 0, commits.get(0));
        assertVisitsLastImages(reader.readTransaction(commits.get(1), null, last), bytes, commits.get(0),
                commits.get(1));
        assertThatThrownBy(() -> reader.readTransaction(commits.get(2), null, last))
                .isInstanceOf(WalInterferenceException.class).hasMessageContaining("checksum chain");
    }

    /**
     * Between walship's checkpoints the header is not read again: a WAL another process started
     * over (new salts) and wrote past the frames read so far is still caught, by the frames' salts.
     */
    @Test
    void readTransaction_walStartedOverBetweenTwoCommits_throwsInterference() throws Exception {
        List<byte[]> wals = walsAfterInserts("r.db", "create table t(x)", "insert into t values (1)",
                "pragma wal_checkpoint(restart)", "insert into t select randomblob(3000) from"
                        + " (select 1 union all select 2 union all select 3 union all select 4)");
        byte[] ours = wals.get(0);
        byte[] theirs = wals.get(1);
        List<Long> ourCommits = WalReader.scan(channel(ours), PAGE).commitFrames();
        long ourFrames = ourCommits.get(ourCommits.size() - 1);
        long theirFrames = WalReader.scan(channel(theirs), PAGE).commitFrames().get(0);
        assertThat(theirFrames).as("their WAL reaches past ours").isGreaterThan(ourFrames);
        Path file = Files.createTempFile(dir, "live", "-wal");
        Files.write(file, ours);
        WalReader reader = new WalReader(FileChannel.open(file, StandardOpenOption.READ), PAGE);
        for (long frames : ourCommits) {
            reader.readTransaction(frames);
        }

        Files.write(file, theirs);

        assertThatThrownBy(() -> reader.readTransaction(theirFrames))
                .isInstanceOf(WalInterferenceException.class).hasMessageContaining("salts");
    }

    @Test
    void readTransaction_pageWrittenTwice_keepsItsLastImage() throws IOException {
        WalReader reader = reader(wal);
        reader.readTransaction(commits.get(0));
        reader.readTransaction(commits.get(1));
        WalTransaction big = reader.readTransaction(commits.get(2));
        int frames = commits.get(2) - commits.get(1);
        assertThat(big.pageCount()).as("cache spill rewrote pages").isLessThan(frames);
        assertVisitsLastImages(big, wal, commits.get(1), commits.get(2));
    }

    /** A commit of many MiB is read a chunk at a time and visited page by page, with the same result. */
    @Test
    void readTransaction_largerThanAChunk_visitsTheSameLastImages() throws Exception {
        List<Integer> bigCommits = new CopyOnWriteArrayList<>();
        SQLiteConfig config = new SQLiteConfig();
        config.enableLoadExtension(true);
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setCacheSize(50); // spill mid-transaction: pages land in the WAL more than once
        byte[] bigWal;
        try (Connection conn = config.createConnection("jdbc:sqlite:" + dir.resolve("big.db"))) {
            long token = WalHook.attach(conn, bigCommits::add);
            try (Statement s = conn.createStatement()) {
                s.execute("create table t(x integer primary key, y)");
                conn.setAutoCommit(false);
                s.execute("insert into t with recursive n(v) as (select 1 union all select v + 1 from n"
                        + " where v < 3000) select v, randomblob(1500) from n");
                s.execute("update t set y = randomblob(1400) where x % 3 = 0");
                s.execute("delete from t where x > 2500"); // pages past the end after commit are not shipped
                conn.commit();
                conn.setAutoCommit(true);
            }
            bigWal = Files.readAllBytes(dir.resolve("big.db-wal"));
            WalHook.detach(conn, token);
        }
        assertThat((long) (bigCommits.get(1) - bigCommits.get(0)) * (PAGE + WalLayout.FRAME_HEADER_SIZE))
                .as("the second commit is larger than the 1 MiB chunk").isGreaterThan(4L << 20);
        WalReader reader = reader(bigWal);
        reader.readTransaction(bigCommits.get(0));
        WalTransaction txn = reader.readTransaction(bigCommits.get(1));
        assertVisitsLastImages(txn, bigWal, bigCommits.get(0), bigCommits.get(1));
        assertVisitsLastImages(txn, bigWal, bigCommits.get(0), bigCommits.get(1)); // and again
    }

    @Test
    void readTransaction_frameWithForeignSalt_throwsInterference() throws IOException {
        byte[] bytes = wal.clone();
        int frame = (int) WalLayout.frameOffset(1, PAGE);
        setInt(bytes, frame + WalLayout.FRAME_SALT1_OFFSET, 12345);

        assertThatThrownBy(() -> reader(bytes).readTransaction(commits.get(0)))
                .isInstanceOf(WalInterferenceException.class).hasMessageContaining("salts");
    }

    /**
     * Regression: a capture still behind the writer, right after walship's checkpoint (a new
     * generation allowed), read another process's restarted WAL as walship's commit when the
     * frame counts matched. The salts the commit was written with tell them apart.
     */
    @Test
    void readTransaction_walStartedOverByAnotherProcessBeforeCapture_throwsInterference() throws Exception {
        List<byte[]> wals = walsAfterInserts("g.db", "create table t(x)", "pragma wal_checkpoint(truncate)",
                "insert into t values (1)", "pragma wal_checkpoint(truncate)", "insert into t values (2)");
        byte[] ours = wals.get(0); // the primary's commit, one frame
        byte[] theirs = wals.get(1); // the other process's, also one frame
        WalReader.Generation written = WalReader.generationOf(channel(ours));
        long frames = WalReader.scan(channel(theirs), PAGE).commitFrames().get(0);
        assertThat(frames).as("same frame count").isEqualTo(
                WalReader.scan(channel(ours), PAGE).commitFrames().get(0));

        assertThatThrownBy(() -> reader(theirs).readTransaction(frames, written))
                .isInstanceOf(WalInterferenceException.class).hasMessageContaining("started over");
        WalReader.Generation theirGeneration = WalReader.generationOf(channel(theirs));
        assertThat(theirGeneration).isNotEqualTo(written);
        assertThat(reader(theirs).readTransaction(frames, theirGeneration).pageCount()).isEqualTo(1);
    }

    /** After an open that found folded frames in the WAL, the commits SQLite appended after them are read. */
    @Test
    void skipFolded_thenReadTransaction_readsTheCommitAfterTheFoldedFrames() throws IOException {
        WalReader reader = reader(wal);
        reader.skipFolded(commits.get(1));

        assertThat(reader.framesRead()).isEqualTo((long) commits.get(1));
        assertVisitsLastImages(reader.readTransaction(commits.get(2)), wal, commits.get(1), commits.get(2));
    }

    @Test
    void skipFolded_damagedFoldedFrame_throwsInterference() throws IOException {
        byte[] bytes = wal.clone();
        bytes[(int) WalLayout.frameOffset(2, PAGE) + WalLayout.FRAME_HEADER_SIZE + 100] ^= 1;

        assertThatThrownBy(() -> reader(bytes).skipFolded(commits.get(1)))
                .isInstanceOf(WalInterferenceException.class).hasMessageContaining("the last checkpoint folded");
    }

    /**
     * A fold with SQLite's RESTART leaves the frames in place. The next commit either starts a new
     * generation over them, or (a reader held a read mark) follows them in the same one: the
     * reader keeps its place for the second and starts over for the first.
     */
    @Test
    void readTransaction_afterAFoldThatKeptTheFrames_followsThemOrStartsTheNewGeneration() throws Exception {
        List<byte[]> wals = walsAfterInserts("r.db", "create table t(x)", "insert into t values (1)",
                "pragma wal_checkpoint(restart)", "insert into t values (2)");
        byte[] folded = wals.get(0);
        byte[] restarted = wals.get(1);
        List<Long> foldedCommits = WalReader.scan(channel(folded), PAGE).commitFrames();
        long foldedFrames = foldedCommits.get(foldedCommits.size() - 1);
        assertThat(restarted.length).as("RESTART kept the file; the next commit wrote over its start")
                .isEqualTo(folded.length);
        assertThat(WalReader.generationOf(channel(restarted))).isNotEqualTo(WalReader.generationOf(channel(folded)));

        Path file = dir.resolve("live-wal");
        Files.write(file, folded);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            WalReader reader = new WalReader(channel, PAGE);
            for (long frames : foldedCommits) {
                reader.readTransaction(frames);
            }
            reader.checkpointed(false);
            Files.write(file, restarted);
            long frames = WalReader.scan(channel, PAGE).commitFrames().get(0);
            WalTransaction txn = reader.readTransaction(frames, WalReader.generationOf(channel));
            assertThat(txn.newGeneration()).isTrue();
            assertVisitsLastImages(txn, restarted, 0, frames);
        }

        byte[] appended = Arrays.copyOf(wal, (int) WalLayout.frameOffset(commits.get(2), PAGE));
        Files.write(file, Arrays.copyOf(wal, (int) WalLayout.frameOffset(commits.get(1), PAGE)));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            WalReader reader = new WalReader(channel, PAGE);
            reader.readTransaction(commits.get(0));
            reader.readTransaction(commits.get(1));
            reader.checkpointed(false);
            Files.write(file, appended);
            WalTransaction txn = reader.readTransaction(commits.get(2), WalReader.generationOf(channel));
            assertThat(txn.newGeneration()).isFalse();
            assertVisitsLastImages(txn, appended, commits.get(1), commits.get(2));
        }
    }

    @Test
    void readTransaction_damagedPage_breaksChecksumChain() throws IOException {
        byte[] bytes = wal.clone();
        bytes[(int) WalLayout.frameOffset(0, PAGE) + WalLayout.FRAME_HEADER_SIZE + 100] ^= 1;

        assertThatThrownBy(() -> reader(bytes).readTransaction(commits.get(0)))
                .isInstanceOf(WalInterferenceException.class).hasMessageContaining("checksum chain");
    }

    @Test
    void readTransaction_walShorterThanReported_throwsInterference() throws IOException {
        byte[] bytes = Arrays.copyOf(wal, (int) WalLayout.frameOffset(commits.get(0), PAGE) - 10);

        assertThatThrownBy(() -> reader(bytes).readTransaction(commits.get(0)))
                .isInstanceOf(WalInterferenceException.class).hasMessageContaining("ends");
    }

    @Test
    void readTransaction_badMagic_throwsInterference() throws IOException {
        byte[] bytes = wal.clone();
        setInt(bytes, WalLayout.HEADER_MAGIC_OFFSET, 0x12345678);

        assertThatThrownBy(() -> reader(bytes).readTransaction(commits.get(0)))
                .isInstanceOf(WalInterferenceException.class).hasMessageContaining("magic");
    }

    @Test
    void readTransaction_twoCommitsInOneReport_throwsInterference() throws IOException {
        assertThatThrownBy(() -> reader(wal).readTransaction(commits.get(1)))
                .isInstanceOf(WalInterferenceException.class).hasMessageContaining("did not");
    }

    // ---------------------------------------------------------------- scan, as SQLite's recovery sees it

    private WalReader.Contents scan(byte[] bytes) throws IOException {
        Path copy = dir.resolve("scan-wal");
        Files.write(copy, bytes);
        try (FileChannel channel = FileChannel.open(copy, StandardOpenOption.READ)) {
            return WalReader.scan(channel, PAGE);
        }
    }

    @Test
    void scan_intactWal_findsEveryCommitTheHookReported() throws IOException {
        WalReader.Contents contents = scan(wal);

        assertThat(contents.commitFrames()).containsExactly(commits.get(0).longValue(), commits.get(1).longValue(),
                commits.get(2).longValue());
        WalReader reader = reader(wal);
        reader.readTransaction(commits.get(0));
        assertThat(contents.generation()).isEqualTo(reader.generation());
    }

    @Test
    void scan_walCutInsideTheLastTransaction_endsAtTheCommitBefore() throws IOException {
        byte[] bytes = Arrays.copyOf(wal, (int) WalLayout.frameOffset(commits.get(2) - 1, PAGE) + 500);

        assertThat(scan(bytes).commitFrames()).containsExactly(commits.get(0).longValue(),
                commits.get(1).longValue());
    }

    @Test
    void scan_damagedFrame_endsAtTheCommitBeforeIt() throws IOException {
        byte[] bytes = wal.clone();
        bytes[(int) WalLayout.frameOffset(commits.get(0), PAGE) + WalLayout.FRAME_HEADER_SIZE + 7] ^= 1;

        assertThat(scan(bytes).commitFrames()).containsExactly(commits.get(0).longValue());
    }

    @Test
    void scan_framesOfAnOlderGenerationAfterTheCommits_areNotCommits() throws IOException {
        byte[] bytes = wal.clone();
        int frame = (int) WalLayout.frameOffset(commits.get(1), PAGE);
        setInt(bytes, frame + WalLayout.FRAME_SALT2_OFFSET, 777); // what a restarted WAL leaves behind its end

        assertThat(scan(bytes).commitFrames()).containsExactly(commits.get(0).longValue(),
                commits.get(1).longValue());
    }

    @Test
    void scan_invalidHeaderOrEmpty_findsNothing() throws IOException {
        byte[] bytes = wal.clone();
        bytes[WalLayout.HEADER_SALT1_OFFSET] ^= 1; // header checksum no longer matches

        assertThat(scan(bytes)).isEqualTo(new WalReader.Contents(null, List.of()));
        assertThat(scan(new byte[0]).commitFrames()).isEmpty();
    }

    @Test
    void readTransaction_reportedCountGoesBack_throwsInterference() throws IOException {
        WalReader reader = reader(wal);
        reader.readTransaction(commits.get(0));
        reader.readTransaction(commits.get(1));

        assertThatThrownBy(() -> reader.readTransaction(commits.get(0)))
                .isInstanceOf(WalInterferenceException.class).hasMessageContaining("already read");
    }
}
