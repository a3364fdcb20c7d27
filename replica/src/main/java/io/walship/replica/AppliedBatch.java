package io.walship.replica;

import java.time.Instant;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

/**
 * Transactions a replica applied, as its {@link Replica#onApplied listeners} see them: the txids
 * {@code firstTxid..lastTxid}, the primary's commit times of the first and the last, and the
 * tables whose pages they changed.
 *
 * <p>{@code tables} names tables, never indexes (a changed index names its table); DDL names the
 * tables it created, dropped or altered, and {@code sqlite_schema}; VACUUM names every table. A
 * table may be named that did not change in content (a page moved), never the reverse. When the
 * replica cannot tell (the page map failed to read), every table of the schema is named.
 *
 * @param firstTxid   the first transaction applied
 * @param lastTxid    the last transaction applied; the replica's txid after this batch
 * @param firstCommit when the primary committed {@code firstTxid}
 * @param lastCommit  when the primary committed {@code lastTxid}
 * <p>With {@link ReplicaOptions#applyUnstored()} only: a batch with {@code takenBack} true says
 * that transactions {@code firstTxid..lastTxid}, applied before the primary had stored them, were
 * lost by the primary and taken back: the replica is at {@code firstTxid - 1} again, and
 * {@code tables} names what changed back. Transactions from {@code firstTxid} on are delivered
 * again as storage holds them. Listeners may have been told of none, some or all of them.
 *
 * @param tables      the tables changed, sorted
 * @param takenBack   these txids were taken back rather than applied (see above)
 */
public record AppliedBatch(long firstTxid, long lastTxid, Instant firstCommit, Instant lastCommit,
                           Set<String> tables, boolean takenBack) {
    /** Checks the range and copies {@code tables}, sorted and unmodifiable. */
    public AppliedBatch {
        if (firstTxid < 1 || lastTxid < firstTxid) {
            throw new IllegalArgumentException("txids " + firstTxid + ".." + lastTxid);
        }
        tables = Collections.unmodifiableSortedSet(new TreeSet<>(tables));
    }

    /** Transactions applied (not taken back). */
    public AppliedBatch(long firstTxid, long lastTxid, Instant firstCommit, Instant lastCommit, Set<String> tables) {
        this(firstTxid, lastTxid, firstCommit, lastCommit, tables, false);
    }

    /** Whether {@link #followedBy} can merge {@code next} into this one. */
    boolean mergesWith(AppliedBatch next) {
        return !takenBack && !next.takenBack && next.firstTxid == lastTxid + 1;
    }

    /** This batch and the one right after it, as one: what a listener that fell behind is given. */
    AppliedBatch followedBy(AppliedBatch next) {
        if (next.firstTxid != lastTxid + 1) {
            throw new IllegalArgumentException("batch " + next.firstTxid + " does not follow " + lastTxid);
        }
        Set<String> both = new TreeSet<>(tables);
        both.addAll(next.tables);
        return new AppliedBatch(firstTxid, next.lastTxid, firstCommit, next.lastCommit, both);
    }
}
