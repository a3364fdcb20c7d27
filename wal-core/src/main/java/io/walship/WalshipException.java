package io.walship;

/**
 * The root of every error walship reports about data, storage or fencing.
 *
 * <p>Unchecked, like the JDBC wrappers users already handle. Each subclass exposes what it
 * knows (object key, txid, expected and actual values) as accessors and builds its message
 * from them, in the form {@code <what failed>: key=… txid=… expected=… actual=…}, followed by
 * a hint when the caller can act. Programmer errors (null arguments, bad options) stay plain
 * JDK exceptions.
 */
public abstract class WalshipException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Subclasses say what happened and what to do in {@code message}. */
    protected WalshipException(String message) {
        super(message);
    }

    /** As {@link #WalshipException(String)}, with the underlying failure. */
    protected WalshipException(String message, Throwable cause) {
        super(message, cause);
    }
}
