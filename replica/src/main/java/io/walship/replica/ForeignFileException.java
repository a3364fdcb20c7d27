package io.walship.replica;

import io.walship.WalshipException;
import java.nio.file.Path;

/**
 * The file a replica was opened on is not a replica of this storage, so the replica refused it and
 * changed nothing: a primary's database, a database that is not a replica at all (a restored copy,
 * an application's file), or a replica of another history. Open the replica on another path, or,
 * when the file may go, with {@link ReplicaOptions.Builder#replaceForeignFile} (the command line's
 * {@code --replace}), which moves it aside and restores in its place. A primary's database is
 * never moved, with or without it.
 */
public final class ForeignFileException extends WalshipException {
    private static final long serialVersionUID = 1L;

    /** What the file turned out to be. */
    public enum Kind {
        /** A walship primary's database: it has the primary's checkpoint record or a write-ahead log. Never moved. */
        PRIMARY_DATABASE,
        /** A SQLite file with no replica state beside it: a restored copy, or some application's database. */
        NOT_A_REPLICA,
        /** A replica whose state storage does not hold: it follows another storage or history, or is ahead of it. */
        OTHER_HISTORY
    }

    private final transient Path path;
    private final Kind kind;

    /** Thrown when the file at {@code path} is of {@code kind}; {@code detail} says what was seen. */
    public ForeignFileException(Path path, Kind kind, String detail) {
        super("replica refused " + path + ": " + describe(kind) + " (" + detail + "); nothing was changed. "
                + (kind == Kind.PRIMARY_DATABASE
                ? "Point the replica at another file: a primary's database is never moved by a replica."
                : "Use another path, or replace it (ReplicaOptions.replaceForeignFile, walship follow --replace):"
                        + " it is then moved aside as " + path.getFileName() + ".diverged-<millis>, never deleted."));
        this.path = path;
        this.kind = kind;
    }

    private static String describe(Kind kind) {
        switch (kind) {
            case PRIMARY_DATABASE:
                return "it is a walship primary's database";
            case NOT_A_REPLICA:
                return "it is not a walship replica";
            default:
                return "it is a replica of another history than this storage's";
        }
    }

    /** The file refused. */
    public Path path() {
        return path;
    }

    /** What the file is. */
    public Kind kind() {
        return kind;
    }
}
