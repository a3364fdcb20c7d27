package io.walship;

import java.sql.Connection;

/**
 * A read-only connection lent by {@link Primary#dataSource()} or a replica's {@code dataSource()},
 * reached with {@code connection.unwrap(ReadConnection.class)}, also through a pool that wraps it
 * (HikariCP, for one).
 *
 * <p>{@link #txid()} says which transaction the connection's data is as of: on a replica exactly
 * the state its current transaction reads (or its last statement read, in auto-commit mode), on a
 * primary a lower bound (a transaction is visible to readers a moment before walship numbers it).
 * Closing the connection returns it to walship's pool; statements left open are closed with it.
 */
public interface ReadConnection extends Connection {
    /** The txid of the state this connection reads; see the class note. */
    long txid();
}
