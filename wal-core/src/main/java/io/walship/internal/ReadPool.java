package io.walship.internal;

import io.walship.SqlFunction;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fixed set of read-only SQLite connections lent one at a time: the read side of a primary
 * or a replica. A borrower that switched auto-commit off gets its transaction rolled back on
 * return. Thread-safe; {@link #read} blocks while every connection is lent.
 */
public final class ReadPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReadPool.class);

    /** Opens one read-only connection. */
    @FunctionalInterface
    public interface Opener {
        Connection open() throws SQLException;
    }

    private final String db;
    private final List<Connection> all = new ArrayList<>();
    private final BlockingQueue<Connection> idle;
    private volatile boolean closed;

    /** Opens {@code size} connections; closes the ones opened if one fails. */
    public ReadPool(String db, int size, Opener opener) throws SQLException {
        this.db = db;
        this.idle = new ArrayBlockingQueue<>(size);
        try {
            for (int i = 0; i < size; i++) {
                Connection conn = opener.open();
                all.add(conn);
                idle.add(conn);
            }
        } catch (SQLException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Runs {@code work} on an idle connection and returns its result. */
    public <T> T read(SqlFunction<T> work) throws SQLException {
        if (closed) {
            throw new IllegalStateException("database is closed: db=" + db);
        }
        Connection conn;
        try {
            conn = idle.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for a read connection: db=" + db, e);
        }
        try {
            return work.apply(conn);
        } finally {
            giveBack(conn);
        }
    }

    /**
     * Lends an idle connection until {@link #giveBack}, waiting at most {@code timeoutNanos};
     * empty when none came free in time.
     */
    public Optional<Connection> borrow(long timeoutNanos) throws SQLException {
        if (closed) {
            throw new SQLNonTransientConnectionException("database is closed: db=" + db);
        }
        try {
            return Optional.ofNullable(idle.poll(timeoutNanos, TimeUnit.NANOSECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for a read connection: db=" + db, e);
        }
    }

    /** Takes back a lent connection, rolling back a transaction its borrower left open. */
    public void giveBack(Connection conn) throws SQLException {
        if (closed) {
            return; // closed with the pool
        }
        try {
            if (!conn.getAutoCommit()) {
                conn.rollback();
                conn.setAutoCommit(true);
            }
        } finally {
            idle.add(conn);
        }
    }

    /** How many connections the pool holds. */
    public int size() {
        return all.size();
    }

    @Override
    public void close() {
        closed = true;
        for (Connection conn : all) {
            closeQuietly(conn);
        }
    }

    /** Closes a resource during shutdown, where a failure can only be reported. */
    public static void closeQuietly(AutoCloseable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            log.warn("close failed resource={} error={}", closeable.getClass().getSimpleName(), e.toString());
        }
    }
}
