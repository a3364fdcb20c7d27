package io.walship.internal.log;

import java.lang.ref.Cleaner;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scratch space for building or reading one segment: the raw and compressed buffers of its
 * current block, the page delta table and the block compressor. Not thread-safe: one segment
 * at a time.
 */
final class CompressionBuffers {
    /*
     * A segment being built, or read (SegmentReader, until closed), borrows one from a JVM-wide
     * pool and gives it back once sealed, discarded or closed, so a database that is not writing
     * or reading holds none, and a replica applying a pushed segment a millisecond does not
     * allocate a block's buffers and a delta table for each read of it. Before the pool each
     * primary kept a full block's raw and compressed buffers (2 MiB) for its lifetime, and a
     * thousand idle databases held 2 GiB. Buffers start small and grow only as far as a segment's blocks need;
     * a grown one goes back to the pool grown, so a busy database does not grow them again for
     * every segment. The pool keeps at most FREE_MAX (the most segments built at once on a
     * machine's capture threads) and lets the rest go to the collector; the most recently given
     * back is lent first, being the likeliest to be grown already. A writer that fails without
     * giving its buffers back only loses them to the collector.
     *
     * The accelerated compressor (Compression.FAST) holds 16 KiB of LZ4's native state, reset
     * for each block, and must be used by one thread at a time, which is what these buffers
     * already are: it lives with them, is made on first use and its state is freed by a cleaner when the
     * buffers are dropped (pool full, or lost by a failed writer), never while they are in use.
     * Where LZ4's native library cannot load, FAST falls back to the default compressor.
     */
    private static final Logger log = LoggerFactory.getLogger(CompressionBuffers.class);
    private static final LZ4Compressor DEFAULT = LZ4Factory.fastestInstance().fastCompressor();
    private static final LZ4Factory NATIVE = nativeFactory();
    private static final Cleaner CLEANER = Cleaner.create();
    private static final int INITIAL_BYTES = 16 << 10;
    private static final int FREE_MAX = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    private static final ConcurrentLinkedDeque<CompressionBuffers> FREE = new ConcurrentLinkedDeque<>();
    private static final AtomicInteger FREE_COUNT = new AtomicInteger();
    private static final AtomicInteger LENT = new AtomicInteger();

    /** Grown by {@link BlockOutputStream} up to the block size; written back there when it grows them. */
    byte[] raw = new byte[INITIAL_BYTES];
    byte[] compressed = new byte[0];
    private PageDeltas deltas;
    private byte[] page;
    private LZ4Compressor fast;

    /** Fresh buffers, not from the pool: for a writer that will not give them back. */
    CompressionBuffers() {
    }

    /** Buffers from the pool, or new ones when none is free; {@link #giveBack()} them once done. */
    static CompressionBuffers borrow() {
        LENT.incrementAndGet();
        CompressionBuffers buffers = FREE.pollFirst();
        if (buffers == null) {
            return new CompressionBuffers();
        }
        FREE_COUNT.decrementAndGet();
        return buffers;
    }

    /** Returns these buffers to the pool; the caller must not touch them afterwards. */
    void giveBack() {
        LENT.decrementAndGet();
        if (FREE_COUNT.incrementAndGet() <= FREE_MAX) {
            FREE.offerFirst(this);
        } else {
            FREE_COUNT.decrementAndGet();
        }
    }

    /** Buffers lent and not given back yet: for tests. */
    static int lent() {
        return LENT.get();
    }

    /** The compressor for {@code compression}; the default one is shared, the accelerated one is these buffers' own. */
    LZ4Compressor compressor(Compression compression) {
        if (compression == Compression.TIGHT || NATIVE == null) {
            return DEFAULT;
        }
        if (fast == null) {
            var made = NATIVE.fastResetCompressor(Compression.FAST_ACCELERATION);
            CLEANER.register(this, made::close);
            fast = made;
        }
        return fast;
    }

    /** The default compressor, shared: for writers without buffers of their own. */
    static LZ4Compressor defaultCompressor() {
        return DEFAULT;
    }

    private static LZ4Factory nativeFactory() {
        try {
            return LZ4Factory.nativeInstance();
        } catch (Throwable e) { // no native LZ4 for this platform: FAST compresses as TIGHT
            log.info("LZ4's native library is unavailable ({}): segments compress at LZ4's default speed", e.toString());
            return null;
        }
    }

    /** A page-sized buffer (a reader's current page), kept for the next borrower of this size. */
    byte[] page(int pageSize) {
        if (page == null || page.length != pageSize) {
            page = new byte[pageSize];
        }
        return page;
    }

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
