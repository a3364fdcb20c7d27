package io.walship.internal.log;

/**
 * How hard a writer compresses its blocks. Every block is a plain LZ4 block whatever the choice,
 * so readers never need to know it: nothing in the format changes.
 */
public enum Compression {
    /*
     * Why two. A profile of single-row inserts put about half of the capture thread in LZ4 (pages
     * seen once in a segment are compressed whole; bench/PROFILE.md). LZ4's acceleration skips
     * match candidates faster: at 4, segment bodies of this workload compressed about 1.8 times
     * faster for 12-15% more bytes. Segments on the commit path live until compaction re-encodes
     * them into what storage keeps, so they take the speed; compacted objects and snapshots,
     * which storage keeps and replicas and restores read, keep LZ4's default ratio.
     */

    /** LZ4 with acceleration {@link #FAST_ACCELERATION}: segments built while commits wait for them. */
    FAST,
    /** LZ4's default: what storage keeps (compacted objects, snapshots) and tools' segments. */
    TIGHT;

    /** LZ4 acceleration of {@link #FAST}; 1 is LZ4's default. */
    static final int FAST_ACCELERATION = 4;
}
