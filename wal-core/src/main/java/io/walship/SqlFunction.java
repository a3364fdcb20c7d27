package io.walship;

import java.sql.Connection;
import java.sql.SQLException;

/** Work done with a connection, returning a value. */
@FunctionalInterface
public interface SqlFunction<T> {
    /** Runs on {@code connection} and returns a result; the connection is not to be kept. */
    T apply(Connection connection) throws SQLException;
}
