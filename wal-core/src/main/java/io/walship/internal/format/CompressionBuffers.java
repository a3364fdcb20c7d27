package io.walship.internal.format;

import io.walship.format.FormatLayout;
import net.jpountz.lz4.LZ4Factory;

/**
 * Scratch space for building one segment: a raw buffer and a compressed buffer of the largest
 * block size, and the page delta table. A primary keeps one and lends it to each segment it
 * builds, so building a segment allocates nothing but its compressed bytes. Not thread-safe: one
 * segment at a time.
 */
public final class CompressionBuffers {
    final byte[] raw = new byte[FormatLayout.MAX_BLOCK_RAW_BYTES];
    final byte[] compressed = new byte[FormatLayout.BLOCK_HEADER_SIZE
            + LZ4Factory.fastestInstance().fastCompressor().maxCompressedLength(FormatLayout.MAX_BLOCK_RAW_BYTES)];
    private PageDeltas deltas;

    /** The delta table for a new segment of {@code pageSize}: empty, its slots kept from the last one. */
    PageDeltas deltas(int pageSize) {
        if (deltas == null || deltas.pageSize() != pageSize) {
            deltas = new PageDeltas(pageSize);
        } else {
            deltas.clear();
        }
        return deltas;
    }
}
