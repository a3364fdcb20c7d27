package io.walship.cli;

import io.walship.storage.Storage;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Parameters;

/** The storage URL every command takes as its first argument. */
final class StorageOption {
    /** Where storage is when STORAGE is not given: for services configured by their environment. */
    static final String STORAGE_VARIABLE = "WALSHIP_STORAGE";

    @Parameters(index = "0", arity = "0..1", paramLabel = "STORAGE", defaultValue = "${env:" + STORAGE_VARIABLE + "}",
            description = "Where the log is stored: file:///path/to/dir (or a plain path), or s3://bucket/prefix."
                    + " Default: the " + STORAGE_VARIABLE + " environment variable.")
    String url;

    @ArgGroup(exclusive = false, heading = "S3 options:%n")
    S3Options s3 = new S3Options();

    /** Opens an existing storage: a missing directory or bucket is refused, never created. */
    Storage openExisting() {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("no storage given: put it first (file:///dir or s3://bucket/prefix)"
                    + " or set " + STORAGE_VARIABLE);
        }
        return StorageUrl.parse(url).open(s3 == null ? new S3Options() : s3);
    }

    /**
     * Refuses a local file whose directory does not exist, before storage is opened: a typo
     * in a path is a usage error (exit 2) naming the directory, not a failure half way.
     */
    static void requireDirectoryOf(Path file, String option) {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new IllegalArgumentException("the directory of " + option + " does not exist: " + parent
                    + " (create it, or give another path)");
        }
    }

    @Override
    public String toString() {
        return StorageUrl.mask(url);
    }
}
