package io.walship;

import io.walship.internal.FileDurability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;

/**
 * The primary's local database file before the primary opens it: creating it, folding a WAL
 * into it, and moving it aside when it has left storage's history.
 * Runs while no connection of this process has the file open, so opening and closing file
 * descriptors here cannot drop SQLite's locks.
 */
final class LocalFile {
    /** What belongs to a database file and moves with it: SQLite's files and walship's record. */
    private static final List<String> SUFFIXES = List.of("", "-wal", "-shm", "-journal", "-walship.checkpoint");

    private LocalFile() {
    }

    /**
     * Creates the database (WAL mode, {@code pageSizeForNew}) if missing, else switches it to WAL
     * mode and folds any WAL into the file. Afterwards the file alone holds the database.
     */
    static void prepare(Path db, int pageSizeForNew) throws SQLException {
        boolean exists = Files.exists(db);
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + db);
             Statement s = conn.createStatement()) {
            if (!exists) {
                s.execute("PRAGMA page_size=" + pageSizeForNew);
            }
            try (ResultSet rs = s.executeQuery("PRAGMA journal_mode=WAL")) {
                rs.next();
                if (!"wal".equalsIgnoreCase(rs.getString(1))) {
                    throw new SQLException("cannot switch " + db + " to WAL mode, journal_mode is " + rs.getString(1));
                }
            }
            fold(s, db);
        }
    }

    /** Folds the WAL of a database in WAL mode into its file (every frame in it) and removes it. */
    static void fold(Path db) throws SQLException {
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + db);
             Statement s = conn.createStatement()) {
            fold(s, db);
        }
    }

    private static void fold(Statement s, Path db) throws SQLException {
        try (ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
            rs.next();
            if (rs.getInt(1) != 0) {
                throw new SQLException("cannot checkpoint " + db + ": another process is using it");
            }
        }
    }

    /**
     * Renames the database and whatever belongs to it ({@code -wal}, {@code -shm}, a hot
     * {@code -journal}, walship's checkpoint record) aside, keeping the {@code keep} newest
     * copies; see {@link FileDurability#moveAside}.
     */
    static Optional<Path> moveAside(Path db, long millis, int keep) throws IOException {
        return FileDurability.moveAside(db, SUFFIXES, millis, keep);
    }

    /** True when the database or anything belonging to it is there. */
    static boolean anyExists(Path db) {
        return FileDurability.anyExists(db, SUFFIXES);
    }
}
