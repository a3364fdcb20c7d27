package io.walship.internal.log;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import net.jpountz.xxhash.StreamingXXHash64;
import net.jpountz.xxhash.XXHashFactory;

/** Hashes (xxHash64) every byte read through it, and counts them. */
final class HashingInputStream extends FilterInputStream {
    private final StreamingXXHash64 hash = XXHashFactory.fastestInstance().newStreamingHash64(FormatLayout.OBJECT_HASH_SEED);
    private long count;

    HashingInputStream(InputStream in) {
        super(in);
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            hash.update(new byte[] {(byte) b}, 0, 1);
            count++;
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            hash.update(b, off, n);
            count += n;
        }
        return n;
    }

    @Override
    public long skip(long n) {
        throw new UnsupportedOperationException("skipping would leave bytes out of the hash");
    }

    long hash() {
        return hash.getValue();
    }

    long count() {
        return count;
    }

    /** Reads from the underlying stream without hashing: for the trailer. */
    InputStream unhashed() {
        return in;
    }
}
