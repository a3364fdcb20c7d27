package io.walship;

import java.nio.file.Path;

/**
 * Another walship primary or replica (in this or another process) has the database file open.
 * Only one of them may own a file: it is the only process that writes it.
 */
public final class DatabaseLockedException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final Path database;

    /** Thrown by {@code Primary.open} and {@code Replica.open} when another process holds {@code lockFile}. */
    public DatabaseLockedException(Path database, Path lockFile) {
        super("database is already open by a walship primary or replica: db=" + database + " lock=" + lockFile
                + " (close the other one first; only one process may own a database file)");
        this.database = database;
    }

    /** The database file that was to be opened. */
    public Path database() {
        return database;
    }
}
