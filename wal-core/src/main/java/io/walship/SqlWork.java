package io.walship;

import java.sql.Connection;
import java.sql.SQLException;

/** Work done with a connection, returning nothing. */
@FunctionalInterface
public interface SqlWork {
    /** Runs on {@code connection}; the connection is not to be kept. */
    void run(Connection connection) throws SQLException;
}
