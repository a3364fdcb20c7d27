package io.walship.capture;

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
        Path copy = dir.resolve("copy-wal");
        Files.write(copy, bytes);
        return new WalReader(FileChannel.open(copy, StandardOpenOption.READ), PAGE);
    }

    private static void setInt(byte[] bytes, int offset, int value) {
        ByteBuffer.wrap(bytes).putInt(offset, value);
    }

    @Test
    void readTransaction_eachCommit_returnsItsPagesOnceInOrder() throws IOException {
        WalReader reader = reader(wal);
        int previousFrames = 0;
        for (int frames : commits) {
            WalTransaction txn = reader.readTransaction(frames);
            assertThat(txn.databasePages()).isPositive();
            assertThat(txn.pgnos()).isSorted().doesNotHaveDuplicates();
            assertThat(txn.pgnos().length).isLessThanOrEqualTo(frames - previousFrames);
            assertThat(txn.imageOffsets()).hasSameSizeAs(txn.pgnos());
            previousFrames = frames;
        }
        assertThat(reader.framesRead()).isEqualTo(commits.get(2).longValue());
    }

    @Test
    void readTransaction_pageWrittenTwice_keepsItsLastImage() throws IOException {
        WalReader reader = reader(wal);
        reader.readTransaction(commits.get(0));
        reader.readTransaction(commits.get(1));
        WalTransaction big = reader.readTransaction(commits.get(2));
        int frames = commits.get(2) - commits.get(1);
        assertThat(big.pgnos().length).as("cache spill rewrote pages").isLessThan(frames);
        for (int i = 0; i < big.pgnos().length; i++) {
            long offset = big.walOffsets()[i];
            byte[] fromFile = Arrays.copyOfRange(wal, (int) offset, (int) offset + PAGE);
            byte[] image = new byte[PAGE];
            big.frames().get(big.imageOffsets()[i], image);
            assertThat(image).isEqualTo(fromFile);
            for (long later = offset + PAGE + WalLayout.FRAME_HEADER_SIZE; later < wal.length;
                 later += PAGE + WalLayout.FRAME_HEADER_SIZE) {
                int pgno = ByteBuffer.wrap(wal).getInt((int) later - WalLayout.FRAME_HEADER_SIZE);
                assertThat(pgno).as("no later frame of page %d", big.pgnos()[i]).isNotEqualTo(big.pgnos()[i]);
            }
        }
    }

    @Test
    void readTransaction_frameWithForeignSalt_throwsInterference() throws IOException {
        byte[] bytes = wal.clone();
        int frame = (int) WalLayout.frameOffset(1, PAGE);
        setInt(bytes, frame + WalLayout.FRAME_SALT1_OFFSET, 12345);

        assertThatThrownBy(() -> reader(bytes).readTransaction(commits.get(0)))
                .isInstanceOf(WalInterferenceException.class).hasMessageContaining("salts");
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
