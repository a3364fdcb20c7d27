package io.walship.storage;

import io.walship.WalshipException;
import java.util.Locale;

/**
 * A storage call failed. {@link #isRetryable()} tells a transient failure (timeout, throttling,
 * 5xx, an I/O error that may clear) from one that needs an operator (access denied, no bucket).
 * The message never contains credentials.
 */
public class StorageException extends WalshipException {
    private static final long serialVersionUID = 1L;

    /** What kind of failure, so callers and operators can tell them apart without parsing text. */
    public enum Kind {
        /** Network down, timeout, connection reset: retry. */
        UNAVAILABLE(true),
        /** The store asks to slow down (HTTP 429, 503 SlowDown): retry with backoff. */
        THROTTLED(true),
        /** The store failed internally (HTTP 5xx): retry. */
        SERVER_ERROR(true),
        /** A local I/O error (permissions, a failing disk): may clear once an operator acts. */
        IO(true),
        /** The disk or quota is full: retried, and clears once an operator frees space. */
        NO_SPACE(true),
        /** The bucket or directory does not exist. */
        BUCKET_MISSING(false),
        /** The credentials are valid but not allowed to do this. */
        ACCESS_DENIED(false),
        /** The credentials are unknown, expired, or the signature does not match. */
        BAD_CREDENTIALS(false),
        /** The bucket lives in another region than the client was configured for. */
        WRONG_REGION(false),
        /** The store does not support something walship needs (e.g. conditional writes). */
        UNSUPPORTED(false),
        /** Anything else the store refused. */
        REJECTED(false);

        private final boolean retryable;

        Kind(boolean retryable) {
            this.retryable = retryable;
        }

        public boolean retryable() {
            return retryable;
        }

        /** The name in lower case ({@code no_space}), as meters and statuses show it. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final String operation;
    private final String key;
    private final Kind kind;

    /** Thrown by a {@link Storage} when {@code operation} on {@code key} failed; {@code detail} says how. */
    public StorageException(String operation, String key, Kind kind, String detail, Throwable cause) {
        super("storage " + operation + " failed: key=" + key + " kind=" + kind + " retryable=" + kind.retryable()
                + (detail == null ? "" : " detail=" + detail), cause);
        this.operation = operation;
        this.key = key;
        this.kind = kind;
    }

    /** A local I/O failure ({@link Kind#IO}, or {@link Kind#REJECTED} when not retryable). */
    public StorageException(String operation, String key, boolean retryable, String detail, Throwable cause) {
        this(operation, key, retryable ? Kind.IO : Kind.REJECTED, detail, cause);
    }

    /** What kind of failure, which decides whether a retry can help. */
    public Kind kind() {
        return kind;
    }

    /** The storage operation: put, get, list, delete. */
    public String operation() {
        return operation;
    }

    /** The key or prefix concerned. */
    public String key() {
        return key;
    }

    public boolean isRetryable() {
        return kind.retryable();
    }
}
