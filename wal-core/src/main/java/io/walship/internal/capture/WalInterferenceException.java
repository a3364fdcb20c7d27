package io.walship.internal.capture;

/**
 * The WAL is not what walship's own commits left there: another process wrote or checkpointed
 * the database, or the WAL was reset. Internal: the primary answers it by re-reading the
 * database and shipping the difference, so it never escapes to users.
 */
public final class WalInterferenceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public WalInterferenceException(String message) {
        super(message);
    }
}
