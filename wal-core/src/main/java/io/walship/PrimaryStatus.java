package io.walship;

import java.time.Instant;
import java.util.Optional;

/**
 * A primary's state at one moment, for health checks and dashboards ({@link Primary#status()}).
 *
 * @param database            the database file name
 * @param health              RUNNING, RETRYING (storage failing: acks wait), FAILED (writes refused) or CLOSED
 * @param txid                the last committed transaction, stored or not
 * @param storedTxid          every transaction up to this one is stored
 * @param pendingTransactions {@code txid - storedTxid}
 * @param pendingBytes        captured log (uncompressed) waiting for storage
 * @param lastStoredAt        when this primary last stored an object; empty if it has not since open
 * @param snapshotTxid        the newest snapshot's txid (-1: none known)
 * @param error               why it is RETRYING or FAILED, or while RUNNING a scheduled snapshot's failure
 *                            until a snapshot is stored again; empty when there is none
 */
public record PrimaryStatus(String database, Health health, long txid, long storedTxid, long pendingTransactions,
                            long pendingBytes, Optional<Instant> lastStoredAt, long snapshotTxid,
                            Optional<Problem> error) {
}
