package io.walship.internal.log;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import net.jpountz.xxhash.StreamingXXHash64;
import net.jpountz.xxhash.XXHashFactory;

/** Hashes (xxHash64) every byte written through it. */
final class HashingOutputStream extends FilterOutputStream {
    private final StreamingXXHash64 hash = XXHashFactory.fastestInstance().newStreamingHash64(FormatLayout.OBJECT_HASH_SEED);

    HashingOutputStream(OutputStream out) {
        super(out);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        hash.update(b, off, len);
        out.write(b, off, len);
    }

    /** Writes the trailer: the hash of everything written so far, not itself hashed. */
    void writeTrailer() throws IOException {
        long value = hash.getValue();
        byte[] trailer = new byte[FormatLayout.TRAILER_SIZE];
        for (int i = 0; i < trailer.length; i++) {
            trailer[i] = (byte) (value >>> (56 - 8 * i));
        }
        out.write(trailer);
    }
}
