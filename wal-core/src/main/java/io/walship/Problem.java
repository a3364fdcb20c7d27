package io.walship;

import io.walship.storage.StorageException;
import java.time.Instant;
import java.util.Objects;

/**
 * An error a status reports: its kind (a {@link StorageException.Kind} in lower case such as
 * {@code no_space}, or the exception's simple class name), the error itself, and since when it
 * has been seen.
 */
public record Problem(String kind, Throwable error, Instant since) {
    public Problem {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(error, "error");
        Objects.requireNonNull(since, "since");
    }

    /** A problem whose kind is derived from {@code error}. */
    public static Problem of(Throwable error, Instant since) {
        return new Problem(kindOf(error), error, since);
    }

    /** The kind of an error as statuses and meters name it. */
    public static String kindOf(Throwable error) {
        if (error instanceof StorageException) {
            return ((StorageException) error).kind().label();
        }
        return error.getClass().getSimpleName();
    }

    /** The error's message, or its class name when it has none. */
    public String message() {
        return error.getMessage() == null ? error.toString() : error.getMessage();
    }
}
