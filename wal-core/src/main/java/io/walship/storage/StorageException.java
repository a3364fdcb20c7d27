package io.walship.storage;

import io.walship.WalshipException;

/**
 * A storage call failed. {@link #isRetryable()} tells a transient failure (timeout, throttling,
 * 5xx, an I/O error that may clear) from one that needs an operator (access denied, no bucket).
 * The message never contains credentials.
 */
public class StorageException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final String key;
    private final boolean retryable;

    public StorageException(String operation, String key, boolean retryable, String detail, Throwable cause) {
        super("storage " + operation + " failed: key=" + key + " retryable=" + retryable
                + (detail == null ? "" : " detail=" + detail), cause);
        this.operation = operation;
        this.key = key;
        this.retryable = retryable;
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
        return retryable;
    }
}
