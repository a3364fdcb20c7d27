package io.walship.internal.capture;

import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

/**
 * The commit finder on WALs that real SQLite writes and restarts: a writer connection stands in
 * for the primary's (auto-checkpoint off), a second connection for a reader holding a read mark
 * or another process writing.
 */
class WalCommitFinderTest {
    private static final int PAGE = 4096;

    @TempDir
    Path dir;

    private Connection writer;
    private FileChannel wal;
    private WalCommitFinder finder;
    private final List<Long> reported = new ArrayList<>();

    @BeforeEach
    void openWriter() throws Exception {
        writer = connection();
        exec(writer, "PRAGMA wal_autocheckpoint=0");
        exec(writer, "create table t(x)");
        exec(writer, "insert into t values (1)");
        wal = FileChannel.open(dir.resolve("f.db-wal"), StandardOpenOption.READ);
        finder = new WalCommitFinder(wal, PAGE);
    }

    @AfterEach
    void close() throws Exception {
        wal.close();
        writer.close();
    }

    /**
     * The primary's sequence when a reader kept its fold from starting the WAL over: the fold,
     * a look before walship's next commit (a second fold that a snapshot then held off), then that
     * commit, at which SQLite starts the WAL over. A look that took the folded frames for a commit
     * after the fold would forget the restart is walship's, and every later fold would be refused.
     */
    @Test
    void findCommits_aLookBetweenAFoldAndWalshipsNextCommit_stillTakesTheRestartAsWalships() throws Exception {
        long frames = foldWhileAReaderHoldsTheLastFrame();
        assertThat(finder.findCommits(0, false, false, reported::add)).as("the look before the commit").isTrue();

        exec(writer, "insert into t values (2)"); // walship's next commit: SQLite starts the WAL over
        long ours = restartedCommitFrames();

        assertThat(finder.findCommits(ours, true, false, reported::add)).as("walship's own generation").isTrue();
        assertThat(reported).as("the hook reported that commit already").isEmpty();
        assertThat(frames).isPositive();
    }

    /** When another process starts the WAL over first, its commit is reported, from the new generation's first frame. */
    @Test
    void findCommits_afterAFold_aRestartByAnotherProcessFirst_reportsItsCommit() throws Exception {
        foldWhileAReaderHoldsTheLastFrame();

        try (Connection other = connection()) {
            exec(other, "insert into t values (1000)"); // starts the WAL over before walship commits
        }
        long theirs = restartedCommitFrames();

        assertThat(finder.findCommits(0, false, false, reported::add)).isTrue();
        assertThat(reported).as("shipped before the next fold").containsExactly(theirs);
    }

    /**
     * Runs the primary's RESTART checkpoint while a reader holds a read mark at the WAL's end:
     * every frame is copied, and it comes back busy, since the reader keeps SQLite from starting
     * the WAL over. The primary counts that as a fold (LocalWal). Returns the WAL's frame count.
     */
    private long foldWhileAReaderHoldsTheLastFrame() throws Exception {
        assertThat(finder.findCommits(0, true, false, reported::add)).isTrue();
        long frames = reported.get(reported.size() - 1);
        reported.clear();
        try (Connection reader = connection()) {
            reader.setAutoCommit(false);
            try (Statement s = reader.createStatement(); ResultSet rs = s.executeQuery("select count(*) from t")) {
                rs.next(); // the reader's read mark: the WAL's last frame
            }
            exec(writer, "PRAGMA busy_timeout=0");
            try (Statement s = writer.createStatement(); ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(RESTART)")) {
                rs.next();
                assertThat(rs.getInt(1)).as("busy").isEqualTo(1);
                assertThat(rs.getInt(3)).as("every frame copied").isEqualTo(rs.getInt(2)).isEqualTo((int) frames);
            }
            finder.folded(frames, false);
            reader.rollback();
        }
        return frames;
    }

    /** The WAL was started over (new salts, its frames counted from 0): its one commit's frame count. */
    private long restartedCommitFrames() throws Exception {
        List<Long> commits = WalReader.scan(wal, PAGE).commitFrames();
        assertThat(commits).as("one commit in the new generation").hasSize(1);
        return commits.get(0);
    }

    private Connection connection() throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        return config.createConnection("jdbc:sqlite:" + dir.resolve("f.db"));
    }
}
