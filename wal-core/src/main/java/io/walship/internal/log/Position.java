package io.walship.internal.log;

/**
 * The newest state storage holds: its txid, the database size and checksum at that txid, the
 * key of the object that says so, and when that state was made (the primary's commit time of
 * {@code txid} when a segment says so, the snapshot's creation time when a snapshot does).
 */
public record Position(long txid, int pageSize, int pageCount, long checksum, String key, long timeMillis) {
}
