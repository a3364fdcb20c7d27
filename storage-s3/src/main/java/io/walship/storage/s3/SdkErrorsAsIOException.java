package io.walship.storage.s3;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * An object's body whose SDK failures while reading (a connection reset mid-body, a response
 * checksum that does not match) arrive as the IOException every reader of a stream handles,
 * naming the key, instead of an unchecked SdkException that would escape a caller's error paths.
 */
final class SdkErrorsAsIOException extends FilterInputStream {
    private final String key;

    SdkErrorsAsIOException(String key, InputStream in) {
        super(in);
        this.key = key;
    }

    @Override
    public int read() throws IOException {
        try {
            return super.read();
        } catch (SdkException e) {
            throw mapped(e);
        }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        try {
            return super.read(b, off, len);
        } catch (SdkException e) {
            throw mapped(e);
        }
    }

    @Override
    public long skip(long n) throws IOException {
        try {
            return super.skip(n);
        } catch (SdkException e) {
            throw mapped(e);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            super.close();
        } catch (SdkException e) {
            throw mapped(e);
        }
    }

    private IOException mapped(SdkException e) {
        return new IOException("reading " + key + " from S3 failed: " + e.getMessage(), e);
    }
}
