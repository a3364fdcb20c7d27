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

    /**
     * A row-level fingerprint of a whole database: the schema, then every row of every table in
     * rowid order, every column's value. Two databases with the same fingerprint hold the same data.
     */
    public static String fingerprint(Connection conn) throws SQLException {
        java.security.MessageDigest digest;
        try {
            digest = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        java.util.List<String> tables = new java.util.ArrayList<>();
        try (Statement s = conn.createStatement();
             ResultSet rs = s.executeQuery("select type, name, coalesce(sql, '') from sqlite_master order by name")) {
            while (rs.next()) {
                digest.update((rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3) + "\n")
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
                if (rs.getString(1).equals("table") && !rs.getString(2).startsWith("sqlite_")) {
                    tables.add(rs.getString(2));
                }
            }
        }
        for (String table : tables) {
            try (Statement s = conn.createStatement();
                 ResultSet rs = s.executeQuery("select * from \"" + table + "\" order by rowid")) {
                int columns = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    for (int c = 1; c <= columns; c++) {
                        byte[] value = rs.getBytes(c);
                        digest.update(value == null ? new byte[] {0} : value);
                        digest.update((byte) '|');
                    }
                }
            }
        }
        return java.util.HexFormat.of().formatHex(digest.digest());
    }

    public static String fingerprint(Path db) throws SQLException {
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + db)) {
            return fingerprint(conn);
        }
    }
}
