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

    /**
     * Parses and checks a storage location: a known scheme with {@code ://}, a bucket for S3, an
     * absolute path and no host for {@code file://}. Text that looks like a URL but is not one
     * ({@code s3:/bucket}, {@code file:relative}) is refused rather than taken as a local path.
     */
    static StorageUrl parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("storage location is empty: give file:///path/to/dir, a path, or"
                    + " s3://bucket/prefix");
        }
        if (!text.contains("://")) {
            if (SCHEME_LIKE.matcher(text).lookingAt()) {
                throw new IllegalArgumentException("not a storage URL: " + mask(text) + " (a URL needs '://':"
                        + " file:///path/to/dir or s3://bucket/prefix)");
            }
            return new StorageUrl("file", Path.of(text).toAbsolutePath().normalize().toString());
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a storage URL: " + mask(text) + " (" + e.getReason() + ")");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        switch (scheme) {
            case "file":
                if (uri.getRawAuthority() != null && !uri.getRawAuthority().isEmpty()
                        && !uri.getRawAuthority().equalsIgnoreCase("localhost")) {
                    throw new IllegalArgumentException("file URL names a host ('" + uri.getRawAuthority() + "'): "
                            + mask(text) + " — a file URL takes three slashes and an absolute path,"
                            + " file:///backups/app (or give the path itself)");
                }
                if (uri.getPath() == null || !uri.getPath().startsWith("/") || uri.getPath().equals("/")) {
                    throw new IllegalArgumentException("file URL needs an absolute directory path: " + mask(text)
                            + " (e.g. file:///backups/app)");
                }
                return new StorageUrl(scheme, Path.of(uri.getPath()).normalize().toString());
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

    /** Text starting like a URL scheme ({@code s3:}, {@code file:}); a Windows drive letter is one letter. */
    private static final java.util.regex.Pattern SCHEME_LIKE =
            java.util.regex.Pattern.compile("[A-Za-z][A-Za-z0-9+.-]+:");

    /**
     * Opens the storage for a command that reads or tends what a primary stored: a directory must
     * exist ({@link StorageException.Kind#BUCKET_MISSING} otherwise, naming it), an S3 bucket too
     * (S3Storage checks). S3 options apply to s3:// URLs only.
     */
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
        return FileSystemStorage.openExisting(Path.of(location));
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
