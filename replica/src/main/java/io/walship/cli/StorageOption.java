package io.walship.cli;

import io.walship.storage.Storage;
import picocli.CommandLine.Parameters;

/** The storage URL every command takes as its first argument. */
final class StorageOption {
    @Parameters(index = "0", paramLabel = "STORAGE",
            description = "Where the log is stored: file:///path/to/dir (or a plain path).")
    String url;

    Storage open() {
        return StorageUrl.parse(url).open();
    }

    @Override
    public String toString() {
        return StorageUrl.mask(url);
    }
}
