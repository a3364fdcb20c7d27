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
 * Up to a fixed number of read-only SQLite connections lent one at a time: the read side of a
 * primary or a replica. A borrower that switched auto-commit off gets its transaction rolled
 * back on return. Thread-safe; {@link #read} blocks while every connection is lent.
 */
public final class ReadPool implements AutoCloseable {
    /*
     * A connection is opened when a read finds none idle and fewer than the limit are open, and
     * kept until close: a database nobody reads holds no read connection. Each one holds two file
     * descriptors (the database and its WAL); opened eagerly, four per primary and four per
     * replica took a runtime of a thousand databases past a 20,000-descriptor limit. The first
     * reads pay for the open (about a millisecond); opening is serialized under the monitor,
     * which close() takes too, so no connection is opened into a closed pool.
     */
    private static final Logger log = LoggerFactory.getLogger(ReadPool.class);

    /** Opens one read-only connection. */
    @FunctionalInterface
    public interface Opener {
        Connection open() throws SQLException;
    }

    private final String db;
    private final int size;
    private final Opener opener;
    /** Every connection opened; guarded by this. */
    private final List<Connection> all = new ArrayList<>();
    private final BlockingQueue<Connection> idle;
    private volatile boolean closed;

    /** A pool of at most {@code size} connections, none opened yet. */
    public ReadPool(String db, int size, Opener opener) {
        if (size < 1) {
            throw new IllegalArgumentException("a read pool holds at least one connection: " + size);
        }
        this.db = db;
        this.size = size;
        this.opener = opener;
        this.idle = new ArrayBlockingQueue<>(size);
    }

    /**
     * An idle connection, a new one while fewer than {@code size} are open, else one given back
     * within {@code timeoutNanos} (negative: however long it takes); null when none came in time.
     */
    private Connection take(long timeoutNanos) throws SQLException, InterruptedException {
        Connection conn = idle.poll();
        if (conn != null) {
            return conn;
        }
        synchronized (this) {
            if (closed) {
                throw new SQLNonTransientConnectionException("database is closed: db=" + db);
            }
            if (all.size() < size) {
                Connection opened = opener.open();
                all.add(opened);
                return opened;
            }
        }
        return timeoutNanos < 0 ? idle.take() : idle.poll(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    /** Runs {@code work} on an idle connection and returns its result. */
    public <T> T read(SqlFunction<T> work) throws SQLException {
        if (closed) {
            throw new IllegalStateException("database is closed: db=" + db);
        }
        Connection conn;
        try {
            conn = take(-1);
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
            return Optional.ofNullable(take(Math.max(0, timeoutNanos)));
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

    /** How many connections the pool holds at most. */
    public int size() {
        return size;
    }

    /** How many connections are open now. */
    public synchronized int opened() {
        return all.size();
    }

    @Override
    public synchronized void close() {
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
