package io.walship.cli;

import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * A storage location given on the command line: {@code file:///backups/app} (or a plain path)
 * for a directory. {@link #toString()} never shows credentials that a URL might carry.
 */
final class StorageUrl {
    private final String scheme;
    private final String location;

    private StorageUrl(String scheme, String location) {
        this.scheme = scheme;
        this.location = location;
    }

    static StorageUrl parse(String text) {
        if (!text.contains("://")) {
            return new StorageUrl("file", Path.of(text).toAbsolutePath().normalize().toString());
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a storage URL: " + mask(text) + " (" + e.getReason() + ")");
        }
        String scheme = uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        switch (scheme) {
            case "file":
                if (uri.getPath() == null || uri.getPath().isEmpty()) {
                    throw new IllegalArgumentException("file URL needs an absolute path: file:///backups/app");
                }
                return new StorageUrl(scheme, uri.getPath());
            case "s3":
                throw new IllegalArgumentException("s3:// storage is not part of this build yet (module storage-s3);"
                        + " use a file:// URL or a mounted directory");
            default:
                throw new IllegalArgumentException("unknown storage scheme '" + scheme + "' in " + mask(text)
                        + " (supported: file://)");
        }
    }

    Storage open() {
        return FileSystemStorage.open(Path.of(location));
    }

    /** The URL with any user:password@ removed. */
    static String mask(String text) {
        return text.replaceAll("//[^/@]*@", "//***@");
    }

    @Override
    public String toString() {
        return scheme + "://" + location;
    }
}
