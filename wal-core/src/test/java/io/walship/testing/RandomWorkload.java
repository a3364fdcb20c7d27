package io.walship.testing;

import io.walship.Ack;
import io.walship.Primary;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;

/**
 * A seeded, repeatable mix of what applications do to a database: inserts of text, integers and
 * blobs larger than a page (overflow chains), updates through indexes, deletes, schema changes,
 * VACUUM (the database shrinks), transactions touching thousands of pages, and rollbacks.
 */
public final class RandomWorkload {
    private final Random random;
    private int tables;
    private long rollbacks;

    public RandomWorkload(long seed) {
        this.random = new Random(seed);
    }

    /** Creates the first table; call once on a new database. */
    public Ack<Void> init(Primary primary) throws SQLException {
        tables = 1;
        return primary.write(conn -> exec(conn, "create table if not exists t0(id integer primary key, k int,"
                + " name text, body blob)", "create index if not exists t0_k on t0(k)"));
    }

    public long rollbacks() {
        return rollbacks;
    }

    /** One random transaction; returns its ack (of the previous txid for a rollback). */
    public Ack<Void> step(Primary primary) throws SQLException {
        int op = random.nextInt(100);
        String table = "t" + random.nextInt(tables);
        if (op < 45) {
            int rows = 1 + random.nextInt(5);
            return primary.write(conn -> insert(conn, table, rows, 200));
        } else if (op < 60) {
            return primary.write(conn -> exec(conn, "update " + table + " set name = name || 'u', k = k + 1"
                    + " where k % 7 = " + random.nextInt(7)));
        } else if (op < 70) {
            return primary.write(conn -> exec(conn, "delete from " + table + " where k % 11 = "
                    + random.nextInt(11)));
        } else if (op < 76) {
            int blobs = 1 + random.nextInt(3);
            return primary.write(conn -> insertBlobs(conn, table, blobs, 3 * 65536 / (1 + random.nextInt(8))));
        } else if (op < 80) {
            String created = "t" + tables;
            tables++;
            return primary.write(conn -> exec(conn, "create table " + created + "(id integer primary key, k int,"
                    + " name text, body blob)", "create index " + created + "_k on " + created + "(k)"));
        } else if (op < 83) {
            return primary.write(conn -> exec(conn, "alter table " + table + " add column c"
                    + random.nextInt(1_000_000) + " int default 7"));
        } else if (op < 86) {
            return primary.write(conn -> {
                conn.setAutoCommit(true);
                exec(conn, "VACUUM");
            });
        } else if (op < 89) {
            return primary.write(conn -> insertBlobs(conn, table, 200 + random.nextInt(300), 8000));
        } else if (op < 94) {
            return primary.write(conn -> exec(conn, "delete from " + table + " where id % 2 = 0"));
        } else {
            Ack<Void> before = primary.flush();
            try {
                primary.write(conn -> {
                    insert(conn, table, 50, 500);
                    throw new SQLException("rollback on purpose");
                });
            } catch (SQLException expected) {
                rollbacks++;
            }
            return before;
        }
    }

    private void insert(Connection conn, String table, int rows, int textLength) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("insert into " + table + "(k, name, body) values (?, ?, ?)")) {
            for (int i = 0; i < rows; i++) {
                ps.setInt(1, random.nextInt(10_000));
                ps.setString(2, text(1 + random.nextInt(textLength)));
                ps.setBytes(3, null);
                ps.executeUpdate();
            }
        }
    }

    private void insertBlobs(Connection conn, String table, int rows, int blobBytes) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("insert into " + table + "(k, name, body) values (?, ?, ?)")) {
            for (int i = 0; i < rows; i++) {
                byte[] blob = new byte[blobBytes];
                random.nextBytes(blob);
                ps.setInt(1, random.nextInt(10_000));
                ps.setString(2, "blob");
                ps.setBytes(3, blob);
                ps.executeUpdate();
            }
        }
    }

    private String text(int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append((char) ('a' + random.nextInt(26)));
        }
        return sb.toString();
    }

    private static void exec(Connection conn, String... sql) throws SQLException {
        try (Statement s = conn.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }
}
