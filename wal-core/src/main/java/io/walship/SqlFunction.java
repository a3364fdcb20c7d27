package io.walship;

import java.sql.Connection;
import java.sql.SQLException;

/** Work done with a connection, returning a value. */
@FunctionalInterface
public interface SqlFunction<T> {
    T apply(Connection connection) throws SQLException;
}
