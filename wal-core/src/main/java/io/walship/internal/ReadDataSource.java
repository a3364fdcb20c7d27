package io.walship.internal;

import io.walship.ReadConnection;
import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A {@link DataSource} over a {@link ReadPool}: {@code getConnection()} lends a pooled read-only
 * connection as a {@link ReadConnection}, {@code close()} gives it back. Thread-safe.
 */
public final class ReadDataSource implements DataSource {
    /*
     * Why a proxy and not the pool's own connections: the pool's connection outlives the
     * borrower, so close() must give it back (rolling back what the borrower left open and
     * closing its statements, whose open result sets would otherwise hold SQLite's SHARED lock
     * and keep a replica's apply out for good), and the owner must see every call that reads the
     * file. A replica's gate is its visibility lock: each call that may read (execute*, prepare,
     * metadata) waits while a batch is written, and records the txid it reads. Inside a
     * transaction (auto-commit off, after its first read) SQLite's SHARED lock already pins one
     * state, so calls skip the gate: taking it there could wait for an apply that waits for this
     * very transaction. Result sets are not wrapped: an open one holds the SHARED lock, which an
     * apply waits for like any reader in another process.
     */
    private static final long DEFAULT_LOGIN_TIMEOUT_SECONDS = 30;
    /** Connection and statement calls that never touch the file: no gate. */
    private static final Set<String> UNGATED = Set.of("getAutoCommit", "setAutoCommit", "commit", "rollback",
            "close", "isClosed", "getWarnings", "clearWarnings", "setQueryTimeout", "getQueryTimeout",
            "setFetchSize", "getFetchSize", "setMaxRows", "getMaxRows", "getNetworkTimeout", "setNetworkTimeout",
            "getHoldability", "setHoldability", "getTransactionIsolation", "setTransactionIsolation",
            "getClientInfo", "setClientInfo", "getSchema", "setSchema", "getCatalog", "setCatalog", "isValid",
            "createStatement", "getTypeMap", "setTypeMap", "nativeSQL", "clearParameters", "clearBatch", "cancel",
            "getUpdateCount", "getMoreResults", "getResultSet", "getGeneratedKeys", "isPoolable", "setPoolable",
            "closeOnCompletion", "isCloseOnCompletion", "setEscapeProcessing", "setFetchDirection",
            "getFetchDirection", "getResultSetType", "getResultSetConcurrency", "getResultSetHoldability",
            "setCursorName", "setMaxFieldSize", "getMaxFieldSize", "getLargeUpdateCount", "getLargeMaxRows",
            "setLargeMaxRows");

    /** How the owner lets a call read: waits while the file changes, says which txid it reads. */
    public interface Gate {
        /** Waits until the file may be read and returns the txid it holds; {@link #leave} follows. */
        long enter() throws SQLException;

        void leave();
    }

    private final ReadPool pool;
    private final Gate gate;
    private final String db;
    private volatile int loginTimeoutSeconds;
    private volatile PrintWriter logWriter;

    public ReadDataSource(ReadPool pool, Gate gate, String db) {
        this.pool = pool;
        this.gate = gate;
        this.db = db;
    }

    /**
     * Lends a read-only connection; waits for one to come free at most the login timeout (30 s
     * when it is 0), and while a replica applies a batch.
     *
     * @throws SQLTransientConnectionException every pooled connection stayed lent
     * @throws SQLNonTransientConnectionException the database is closed or failed
     */
    @Override
    public Connection getConnection() throws SQLException {
        long timeoutSeconds = loginTimeoutSeconds > 0 ? loginTimeoutSeconds : DEFAULT_LOGIN_TIMEOUT_SECONDS;
        Connection physical = pool.borrow(TimeUnit.SECONDS.toNanos(timeoutSeconds)).orElseThrow(() ->
                new SQLTransientConnectionException("no read connection came free within " + timeoutSeconds
                        + " s: db=" + db + " connections=" + pool.size() + " (all lent; close connections when done,"
                        + " keep a pool in front no larger than that, or raise readConnections)"));
        try {
            long txid = gate.enter();
            gate.leave();
            return new Lent(physical, txid).proxy;
        } catch (SQLException | RuntimeException e) {
            pool.giveBack(physical);
            throw e;
        }
    }

    /** As {@link #getConnection()}; SQLite has no users, so the credentials are ignored. */
    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return getConnection();
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        logWriter = out;
    }

    @Override
    public void setLoginTimeout(int seconds) {
        loginTimeoutSeconds = Math.max(0, seconds);
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeoutSeconds;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("walship logs through SLF4J");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("not a wrapper for " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }

    @Override
    public String toString() {
        return "ReadDataSource[db=" + db + ", connections=" + pool.size() + "]";
    }

    /** One loan of a pooled connection: the proxy handed out, until it is closed. */
    private final class Lent implements InvocationHandler {
        private final Connection physical;
        private final ReadConnection proxy;
        private final Set<Statement> statements = ConcurrentHashMap.newKeySet();
        private volatile boolean closed;
        private volatile long txid;
        /** Auto-commit off and the transaction has read: SQLite pins its state until it ends. */
        private boolean pinned;

        Lent(Connection physical, long txid) {
            this.physical = physical;
            this.txid = txid;
            this.proxy = (ReadConnection) Proxy.newProxyInstance(ReadConnection.class.getClassLoader(),
                    new Class<?>[] {ReadConnection.class}, this);
        }

        @Override
        public Object invoke(Object self, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            switch (name) {
                case "txid":
                    return txid;
                case "close":
                    close();
                    return null;
                case "isClosed":
                    return closed;
                case "equals":
                    return self == args[0];
                case "hashCode":
                    return System.identityHashCode(self);
                case "toString":
                    return "ReadConnection[db=" + db + ", txid=" + txid + (closed ? ", closed" : "") + "]";
                case "unwrap":
                    return ((Class<?>) args[0]).isInstance(self) ? self : physical.unwrap((Class<?>) args[0]);
                case "isWrapperFor":
                    return ((Class<?>) args[0]).isInstance(self) || physical.isWrapperFor((Class<?>) args[0]);
                case "isValid":
                    return !closed && physical.isValid((Integer) args[0]);
                case "isReadOnly":
                    checkOpen();
                    return true;
                case "setReadOnly":
                    checkOpen(); // a hint (JDBC): the connection stays read-only whatever it is asked
                    return null;
                default:
                    break;
            }
            checkOpen();
            Object result = call(physical, method, args);
            if (name.equals("commit") || name.equals("rollback") || name.equals("setAutoCommit")) {
                pinned = false;
            }
            return wrap(method, result);
        }

        /** Runs one call on a physical object, through the gate when it may read the file. */
        Object call(Object target, Method method, Object[] args) throws Throwable {
            boolean gated = !UNGATED.contains(method.getName()) && !pinned;
            if (gated) {
                long seen = gate.enter();
                try {
                    Object result = invokeOn(target, method, args);
                    txid = seen;
                    pinned = !physical.getAutoCommit();
                    return result;
                } finally {
                    gate.leave();
                }
            }
            return invokeOn(target, method, args);
        }

        /** Statements and metadata go out wrapped, so their calls are gated and closed with the loan. */
        Object wrap(Method method, Object result) {
            Class<?> type = method.getReturnType();
            if (result == null || !(type == Statement.class || type == PreparedStatement.class
                    || type == CallableStatement.class || type == DatabaseMetaData.class)) {
                return result;
            }
            if (result instanceof Statement) {
                statements.add((Statement) result);
            }
            return Proxy.newProxyInstance(ReadConnection.class.getClassLoader(), new Class<?>[] {type},
                    (self, m, args) -> {
                        switch (m.getName()) {
                            case "getConnection":
                                return proxy;
                            case "equals":
                                return self == args[0];
                            case "hashCode":
                                return System.identityHashCode(self);
                            case "toString":
                                return type.getSimpleName() + "[" + result + "]";
                            case "unwrap":
                                return ((Class<?>) args[0]).isInstance(self) ? self
                                        : invokeOn(result, m, args);
                            case "isWrapperFor":
                                return ((Class<?>) args[0]).isInstance(self) || (Boolean) invokeOn(result, m, args);
                            case "close":
                                statements.remove(result);
                                return invokeOn(result, m, args);
                            case "isClosed":
                                return invokeOn(result, m, args); // closed with the loan, so true then
                            default:
                                checkOpen();
                                return wrap(m, call(result, m, args));
                        }
                    });
        }

        private void checkOpen() throws SQLException {
            if (closed) {
                throw new SQLNonTransientConnectionException("connection is closed: db=" + db);
            }
        }

        /** Closes what the borrower left open and gives the connection back; once. */
        private synchronized void close() throws SQLException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                for (Statement statement : statements) {
                    ReadPool.closeQuietly(statement);
                }
                statements.clear();
            } finally {
                pool.giveBack(physical);
            }
        }
    }

    private static Object invokeOn(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
