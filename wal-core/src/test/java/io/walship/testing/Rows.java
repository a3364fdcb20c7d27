package io.walship.testing;

import io.walship.Primary;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Small SQL conveniences for tests. */
public final class Rows {
    private Rows() {
    }

    public static void exec(Connection conn, String sql) throws SQLException {
        try (Statement s = conn.createStatement()) {
            s.execute(sql);
        }
    }

    public static long queryLong(Connection conn, String sql) throws SQLException {
        try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public static long queryLong(Path db, String sql) throws SQLException {
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + db)) {
            return queryLong(conn, sql);
        }
    }

    public static long queryLong(Primary primary, String sql) throws SQLException {
        return primary.read(conn -> queryLong(conn, sql));
    }
}
