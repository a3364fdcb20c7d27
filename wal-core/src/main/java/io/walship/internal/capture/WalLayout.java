package io.walship.internal.capture;

/**
 * SQLite's own WAL file format (https://www.sqlite.org/fileformat2.html#walformat), the numbers
 * walship needs to read it. Header and frame-header integers are big-endian; the checksum
 * words are read in the byte order the magic names.
 *
 * <pre>
 * WAL header (32 bytes)                 frame header (24 bytes), then one page image
 *  0 magic 0x377f0682/3                  0 page number
 *  4 format version 3007000              4 database size in pages after commit, 0 otherwise
 *  8 page size                           8 salt-1 (copy of the header's)
 * 12 checkpoint sequence                12 salt-2
 * 16 salt-1                             16 checksum-1 (cumulative)
 * 20 salt-2                             20 checksum-2
 * 24 checksum-1 of bytes 0..23
 * 28 checksum-2
 * </pre>
 */
public final class WalLayout {
    private WalLayout() {
    }

    /** Magic with checksums computed on little-endian words. */
    public static final int MAGIC_LITTLE_ENDIAN = 0x377f0682;
    /** Magic with checksums computed on big-endian words. */
    public static final int MAGIC_BIG_ENDIAN = 0x377f0683;
    public static final int FORMAT_VERSION = 3007000;

    public static final int HEADER_MAGIC_OFFSET = 0;
    public static final int HEADER_VERSION_OFFSET = 4;
    public static final int HEADER_PAGE_SIZE_OFFSET = 8;
    public static final int HEADER_CHECKPOINT_SEQUENCE_OFFSET = 12;
    public static final int HEADER_SALT1_OFFSET = 16;
    public static final int HEADER_SALT2_OFFSET = 20;
    public static final int HEADER_CHECKSUM1_OFFSET = 24;
    public static final int HEADER_CHECKSUM2_OFFSET = 28;
    public static final int HEADER_SIZE = 32;

    public static final int FRAME_PGNO_OFFSET = 0;
    public static final int FRAME_DB_SIZE_OFFSET = 4;
    public static final int FRAME_SALT1_OFFSET = 8;
    public static final int FRAME_SALT2_OFFSET = 12;
    public static final int FRAME_CHECKSUM1_OFFSET = 16;
    public static final int FRAME_CHECKSUM2_OFFSET = 20;
    public static final int FRAME_HEADER_SIZE = 24;
    /** Bytes of the frame header covered by the checksum (page number and database size). */
    public static final int FRAME_CHECKSUMMED_HEADER_BYTES = 8;

    /** File offset of frame {@code index} (0-based). */
    public static long frameOffset(long index, int pageSize) {
        return HEADER_SIZE + index * (FRAME_HEADER_SIZE + (long) pageSize);
    }
}
