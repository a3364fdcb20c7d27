package io.walship;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How {@link Primary#open} took up the local database file: what it found, what it did, and
 * what it cost. Also logged once, at INFO (WARN when the file was moved aside).
 *
 * @param kind                  what happened, see {@link Kind}
 * @param txid                  the primary's txid once open: the last transaction in the file or its WAL
 * @param storedTxid            the newest txid storage held at open
 * @param walTransactions       committed transactions found in the WAL beyond the file's own state
 * @param unshippedTransactions of those, how many storage did not hold yet: they are shipped now,
 *                              as txids {@code storedTxid + 1 .. txid}
 * @param appliedTransactions   stored transactions written into a file that was behind storage
 * @param pagesWritten          pages walship wrote into the database file while opening (catch-up or rebuild)
 * @param fileRead              true when the whole database file had to be read (its checkpoint
 *                              record could not vouch for it, e.g. after a crash during a checkpoint)
 * @param reason                why the file was rebuilt, or the empty string
 * @param movedAside            where the previous file was moved, when it left storage's history
 *                              and {@code keepDivergedCopies} is not 0
 * @param millis                how long the open took
 */
public record OpenOutcome(Kind kind, long txid, long storedTxid, long walTransactions, long unshippedTransactions,
                          long appliedTransactions, long pagesWritten, boolean fileRead, String reason,
                          Optional<Path> movedAside, long millis) {
    /** What {@link Primary#open} did with the local file. */
    public enum Kind {
        /** Storage was empty: the local file (or a new database) became the snapshot at txid 0. */
        BOOTSTRAPPED,
        /** The file and its WAL continue storage's history; transactions storage lacked are shipped. */
        RESUMED,
        /** The file was behind storage (a WAL tail lost to a power failure, an older copy): storage's
         *  missing transactions were written into it, as a replica applies them. */
        CAUGHT_UP,
        /** The file was missing, or left storage's history: it was rebuilt from storage. */
        REBUILT
    }

    public OpenOutcome {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(movedAside, "movedAside");
    }
}
