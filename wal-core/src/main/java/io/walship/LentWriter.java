package io.walship;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;

/**
 * The primary's writer connection as the work of {@link Primary#write} sees it: every call goes to
 * the one writer connection, except those that would end it for the primary. Closing it (a
 * try-with-resources on the parameter is a normal Java habit) ends this loan only, as closing a
 * pooled connection does: the writer stays open, the work's transaction commits when the work
 * returns (or rolls back when it throws), and later calls on the closed loan are refused.
 * {@code abort} is refused. Outside a write the loan refuses every call, so a reference kept past
 * the work cannot write behind the primary's back. One loan per primary, lent to one write at a
 * time (the primary's gate).
 */
final class LentWriter implements InvocationHandler {
    private final Connection writer;
    private final String db;
    private final Connection proxy;
    /** Guarded by the primary's gate. */
    private boolean lent;
    private boolean closedByWork;

    LentWriter(Connection writer, String db) {
        this.writer = writer;
        this.db = db;
        this.proxy = (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, this);
    }

    /** Lends the writer to one write's work; {@link #end} takes it back. */
    Connection lend() {
        lent = true;
        closedByWork = false;
        return proxy;
    }

    /** Takes the writer back once the work returned or threw. */
    void end() {
        lent = false;
    }

    @Override
    public Object invoke(Object self, Method method, Object[] args) throws Throwable {
        switch (method.getName()) {
            case "close":
                closedByWork = true; // the loan ends; the writer and the work's transaction go on
                return null;
            case "isClosed":
                return !lent || closedByWork || writer.isClosed();
            case "abort":
                throw new SQLException("the primary's writer connection cannot be aborted by a write's work: db=" + db
                        + " (throw from the work to roll its transaction back)");
            case "equals":
                return self == args[0];
            case "hashCode":
                return System.identityHashCode(self);
            case "toString":
                return "LentWriter[db=" + db + (lent && !closedByWork ? "" : ", closed") + "]";
            case "unwrap":
                return ((Class<?>) args[0]).isInstance(self) ? self : call(method, args);
            case "isWrapperFor":
                return ((Class<?>) args[0]).isInstance(self) || (Boolean) call(method, args);
            default:
                if (!lent || closedByWork) {
                    throw new SQLNonTransientConnectionException("connection is closed: db=" + db + " ("
                            + (lent ? "closed by the work" : "lent only while the work of Primary.write runs") + ")");
                }
                return call(method, args);
        }
    }

    private Object call(Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(writer, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
