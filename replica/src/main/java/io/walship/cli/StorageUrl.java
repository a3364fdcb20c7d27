package io.walship.cli;

import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.storage.s3.S3Storage;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * A storage location given on the command line: {@code file:///backups/app} (or a plain path)
 * for a directory, {@code s3://bucket/prefix} for S3 and S3-compatible stores (credentials from
 * the AWS default chain). {@link #toString()} never shows credentials that a URL might carry.
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
                if (uri.getHost() == null || uri.getUserInfo() != null) {
                    throw new IllegalArgumentException("s3 URL must be s3://bucket/prefix (credentials come from the"
                            + " AWS default chain, never from the URL): " + mask(text));
                }
                return new StorageUrl(scheme, uri.getHost() + (uri.getPath() == null ? "" : uri.getPath()));
            default:
                throw new IllegalArgumentException("unknown storage scheme '" + scheme + "' in " + mask(text)
                        + " (supported: file://, s3://)");
        }
    }

    /** Opens the storage; S3 options apply to s3:// URLs only. */
    Storage open(S3Options s3) {
        if (scheme.equals("s3")) {
            int slash = location.indexOf('/');
            String bucket = slash < 0 ? location : location.substring(0, slash);
            String prefix = slash < 0 ? "" : location.substring(slash + 1);
            S3Storage.Builder builder = S3Storage.builder(bucket).prefix(prefix).pathStyle(s3.pathStyle)
                    .checksumsWhenRequired(s3.checksumsWhenRequired);
            if (s3.endpoint != null) {
                builder.endpoint(s3.endpoint);
            }
            if (s3.region != null) {
                builder.region(s3.region);
            }
            return builder.open();
        }
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
