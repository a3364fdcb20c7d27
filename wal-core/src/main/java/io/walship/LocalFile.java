package io.walship;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The primary's local database file before the primary opens it: folding a leftover WAL into
 * it and moving it aside when it does not match storage.
 * Runs while no connection of this process has the file open, so opening and closing file
 * descriptors here cannot drop SQLite's locks.
 */
final class LocalFile {
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
            try (ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
                rs.next();
                if (rs.getInt(1) != 0) {
                    throw new SQLException("cannot checkpoint " + db + ": another process is using it");
                }
            }
        }
    }

    /** Renames the database and its -wal and -shm to {@code <name>.diverged-<millis>…}; never deletes. */
    static Path moveAside(Path db, long millis) throws IOException {
        Path aside = db.resolveSibling(db.getFileName() + ".diverged-" + millis);
        for (String suffix : List.of("", "-wal", "-shm")) {
            Path from = db.resolveSibling(db.getFileName() + suffix);
            if (Files.exists(from)) {
                Files.move(from, aside.resolveSibling(aside.getFileName() + suffix), StandardCopyOption.ATOMIC_MOVE);
            }
        }
        return aside;
    }
}
