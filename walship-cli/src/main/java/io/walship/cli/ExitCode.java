package io.walship.cli;

import io.walship.BadObjectException;
import io.walship.DatabaseLockedException;
import io.walship.FencedException;
import io.walship.TxidNotAvailableException;
import io.walship.encryption.EncryptionException;
import io.walship.replica.ForeignFileException;
import io.walship.storage.StorageException;

/** Exit codes scripts can rely on; also listed in {@code docs/CLI.md}. */
enum ExitCode {
    OK(0),
    /** Anything not listed below: a bug or an unexpected environment. */
    FAILED(1),
    /** Bad command line (picocli's own code for usage errors), or the keys of an encrypted storage missing. */
    USAGE(2),
    /**
     * Stored data is damaged or inconsistent: corrupt object (an encrypted one that fails
     * authentication too), gap, unknown version, wrong page size, plaintext in an encrypted storage.
     */
    BAD_DATA(3),
    /** The requested state is not in storage (no snapshot, target out of range), or the storage itself is missing. */
    NOT_AVAILABLE(4),
    /** Storage could not be reached or refused the request. */
    STORAGE(5),
    /**
     * The database file is owned by another walship process, a target file already exists, or the
     * file a replica was pointed at is not this storage's replica (nothing was changed).
     */
    BUSY(6),
    /** {@code status --max-age}: nothing was stored for longer than the given age. */
    STALE(7),
    /** {@code follow --stream}: the live stream failed for {@code --stream-timeout} without connecting. */
    STREAM(8);

    final int code;

    ExitCode(int code) {
        this.code = code;
    }

    static ExitCode of(Throwable e) {
        if (e instanceof BadObjectException || e instanceof FencedException) {
            return BAD_DATA;
        }
        if (e instanceof EncryptionException encryption) {
            // keys missing or not those of the storage: the command line must give them; plaintext where
            // encryption was configured: the storage is not what it should be
            return encryption.kind() == EncryptionException.Kind.PLAINTEXT ? BAD_DATA : USAGE;
        }
        if (e instanceof TxidNotAvailableException) {
            return NOT_AVAILABLE;
        }
        if (e instanceof StorageException) {
            // a missing directory or bucket: the storage asked for is not there (a mistyped path, most often)
            return ((StorageException) e).kind() == StorageException.Kind.BUCKET_MISSING ? NOT_AVAILABLE : STORAGE;
        }
        if (e instanceof DatabaseLockedException || e instanceof ForeignFileException
                || e instanceof java.nio.file.FileAlreadyExistsException
                || e.getCause() instanceof java.nio.file.FileAlreadyExistsException) {
            return BUSY;
        }
        if (e instanceof IllegalArgumentException) {
            return USAGE;
        }
        return FAILED;
    }
}
