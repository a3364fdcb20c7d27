package io.walship;

import java.nio.file.Path;

/** Another primary (in this or another process) has the database open. */
public final class PrimaryLockedException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final Path database;

    public PrimaryLockedException(Path database, Path lockFile) {
        super("database already has a primary: db=" + database + " lock=" + lockFile
                + " (close the other primary first; only one writer may ship a database)");
        this.database = database;
    }

    public Path database() {
        return database;
    }
}
