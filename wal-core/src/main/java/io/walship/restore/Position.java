package io.walship.restore;

/**
 * The newest state storage holds: its txid, the database size and checksum at that txid, and
 * the key of the object that says so.
 */
public record Position(long txid, int pageSize, int pageCount, long checksum, String key) {
}
