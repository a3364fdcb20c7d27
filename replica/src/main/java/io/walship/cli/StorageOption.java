package io.walship.cli;

import io.walship.storage.Storage;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Parameters;

/** The storage URL every command takes as its first argument. */
final class StorageOption {
    @Parameters(index = "0", paramLabel = "STORAGE",
            description = "Where the log is stored: file:///path/to/dir (or a plain path), or s3://bucket/prefix.")
    String url;

    @ArgGroup(exclusive = false, heading = "S3 options:%n")
    S3Options s3 = new S3Options();

    /** Opens an existing storage: a missing directory or bucket is refused, never created. */
    Storage openExisting() {
        return StorageUrl.parse(url).open(s3 == null ? new S3Options() : s3);
    }

    @Override
    public String toString() {
        return StorageUrl.mask(url);
    }
}
