package io.walship.internal.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Builds one log segment, compressing transactions as they are added, so only the compressed
 * body is kept - in memory while the {@link SegmentSpill} budget allows, else in a temporary
 * file. See {@link FormatLayout} for the bytes. Not thread-safe.
 *
 * <p>Stream each transaction in with {@link #begin}, {@link #page} and {@link #end};
 * {@link #seal()} finishes the segment. A transaction of any size costs one compression block
 * of memory beyond the budget.
 */
public final class SegmentWriter {
    private final int pageSize;
    private final long checksumBefore;
    private final SegmentSpill spill;
    private final SegmentBody body;
    private final BlockOutputStream blocks;
    private final ByteBuffer word = ByteBuffer.allocate(FormatLayout.TXN_HEADER_SIZE);
    private final PageDeltas deltas;
    /** Borrowed from the pool until sealed or discarded; null once given back, or when not pooled. */
    private CompressionBuffers borrowed;
    /** The page being added, as stored: its image, or its XOR with the previous image. */
    private final byte[] stored;
    private int transactionCount;
    private long firstTxid = -1;
    private long lastTxid = -1;
    private long lastChecksumAfter;
    private int pagesLeft = -1;
    private boolean sealed;

    /** A segment held in memory, with buffers of its own that grow with it: for tools and tests. */
    public SegmentWriter(int pageSize, long checksumBefore) {
        this(pageSize, checksumBefore, new CompressionBuffers(), false, SegmentSpill.memoryOnly(), Compression.TIGHT);
    }

    /**
     * A segment built in scratch buffers borrowed from the JVM-wide pool until {@link #seal()} or
     * {@link #discard()}: a writer that is not building a segment holds none.
     *
     * @param checksumBefore database checksum before the first transaction of the segment
     * @param spill          the memory budget, and where the body goes beyond it
     * @param compression    {@link Compression#FAST} on the commit path, {@link Compression#TIGHT} for what is kept
     */
    public SegmentWriter(int pageSize, long checksumBefore, SegmentSpill spill, Compression compression) {
        this(pageSize, checksumBefore, CompressionBuffers.borrow(), true, spill, compression);
    }

    private SegmentWriter(int pageSize, long checksumBefore, CompressionBuffers buffers, boolean pooled,
                          SegmentSpill spill, Compression compression) {
        if (!FormatLayout.isValidPageSize(pageSize)) {
            if (pooled) {
                buffers.giveBack();
            }
            throw new IllegalArgumentException("invalid page size: " + pageSize);
        }
        this.pageSize = pageSize;
        this.checksumBefore = checksumBefore;
        this.lastChecksumAfter = checksumBefore;
        this.spill = spill;
        this.body = new SegmentBody(spill);
        this.blocks = new BlockOutputStream(body, buffers, compression);
        this.deltas = buffers.deltas(pageSize);
        this.borrowed = pooled ? buffers : null;
        this.stored = new byte[pageSize];
    }

    /** Bytes a transaction of {@code pageCount} pages takes in a segment body, uncompressed. */
    public static long encodedBytes(int pageCount, int pageSize) {
        return FormatLayout.TXN_HEADER_SIZE + (long) pageCount * (FormatLayout.TXN_PGNO_SIZE + pageSize)
                + FormatLayout.TXN_TRAILER_SIZE;
    }

    /** Starts a transaction of {@code pageCount} pages; follow with exactly that many {@link #page} calls. */
    public void begin(long txid, long commitMillis, int databasePages, int pageCount) throws IOException {
        checkOpen();
        if (pagesLeft >= 0) {
            throw new IllegalStateException("transaction " + lastTxid + " is not ended");
        }
        if (transactionCount > 0 && txid != lastTxid + 1) {
            throw new IllegalArgumentException("txid " + txid + " does not follow " + lastTxid);
        }
        word.putLong(FormatLayout.TXN_TXID_OFFSET, txid)
                .putLong(FormatLayout.TXN_COMMIT_MILLIS_OFFSET, commitMillis)
                .putInt(FormatLayout.TXN_DB_PAGES_OFFSET, databasePages)
                .putInt(FormatLayout.TXN_PAGE_COUNT_OFFSET, pageCount);
        blocks.write(word.array(), 0, FormatLayout.TXN_HEADER_SIZE);
        if (transactionCount == 0) {
            firstTxid = txid;
        }
        lastTxid = txid;
        pagesLeft = pageCount;
    }

    /** Adds the image of page {@code pgno}: {@code pageSize} bytes at {@code offset} of {@code buffer}. */
    public void page(int pgno, ByteBuffer buffer, int offset) throws IOException {
        buffer.get(offset, stored, 0, pageSize);
        addStored(pgno);
    }

    /** Adds the image of page {@code pgno}: {@code pageSize} bytes at {@code offset} of {@code image}. */
    public void page(int pgno, byte[] image, int offset) throws IOException {
        System.arraycopy(image, offset, stored, 0, pageSize);
        addStored(pgno);
    }

    /** Writes the page in {@code stored}, as a delta when the table holds its previous image. */
    private void addStored(int pgno) throws IOException {
        if (pagesLeft <= 0) {
            throw new IllegalStateException("no page announced for txid " + lastTxid);
        }
        if (pgno < 1) {
            throw new IllegalArgumentException("page number out of range: " + Integer.toUnsignedString(pgno));
        }
        boolean delta = deltas.encode(pgno, stored);
        word.putInt(0, delta ? pgno | FormatLayout.PGNO_DELTA_FLAG : pgno);
        blocks.write(word.array(), 0, FormatLayout.TXN_PGNO_SIZE);
        blocks.write(stored, 0, pageSize);
        pagesLeft--;
    }

    /** Ends the transaction with the database checksum after it. */
    public void end(long checksumAfter) throws IOException {
        if (pagesLeft != 0) {
            throw new IllegalStateException("txid " + lastTxid + " misses " + pagesLeft + " pages");
        }
        word.putLong(0, checksumAfter);
        blocks.write(word.array(), 0, FormatLayout.TXN_TRAILER_SIZE);
        pagesLeft = -1;
        transactionCount++;
        lastChecksumAfter = checksumAfter;
    }

    private void checkOpen() {
        if (sealed) {
            throw new IllegalStateException("segment is sealed");
        }
    }

    public boolean isEmpty() {
        return transactionCount == 0;
    }

    public int transactionCount() {
        return transactionCount;
    }

    public long firstTxid() {
        return firstTxid;
    }

    public long lastTxid() {
        return lastTxid;
    }

    /** Database checksum after the last transaction. */
    public long lastChecksumAfter() {
        return lastChecksumAfter;
    }

    /** Uncompressed size of the transactions added so far. */
    public long rawBodyBytes() {
        return blocks.totalRawBytes();
    }

    /** True once the body outgrew memory and went to a file. */
    public boolean spilled() {
        return body.spilled();
    }

    /** Finishes the segment (header, compressed records, trailer); the buffers are free again afterwards. */
    public SealedSegment seal() throws IOException {
        checkOpen();
        if (transactionCount == 0 || pagesLeft >= 0) {
            throw new IllegalStateException("a segment holds at least one whole transaction");
        }
        blocks.finish();
        sealed = true;
        giveBack();
        ByteBuffer header = ObjectHeader.prefix(FormatLayout.SEGMENT_HEADER_SIZE, FormatLayout.SEGMENT_MAGIC,
                        FormatLayout.SEGMENT_FORMAT_VERSION, pageSize)
                .putInt(FormatLayout.SEGMENT_TXN_COUNT_OFFSET, transactionCount)
                .putLong(FormatLayout.SEGMENT_FIRST_TXID_OFFSET, firstTxid)
                .putLong(FormatLayout.SEGMENT_LAST_TXID_OFFSET, lastTxid)
                .putLong(FormatLayout.SEGMENT_CHECKSUM_BEFORE_OFFSET, checksumBefore)
                .putLong(FormatLayout.SEGMENT_RAW_BODY_BYTES_OFFSET, blocks.totalRawBytes());
        if (body.spilled()) {
            long length = body.finishFile(header);
            return new SealedSegment(spill, SegmentBytes.inFile(body.file(), length), 0, firstTxid, lastTxid,
                    blocks.totalRawBytes());
        }
        int bodyLength = Math.toIntExact(body.size());
        byte[] array = new byte[FormatLayout.SEGMENT_HEADER_SIZE + bodyLength + FormatLayout.TRAILER_SIZE];
        header.get(0, array, 0, FormatLayout.SEGMENT_HEADER_SIZE);
        body.copyTo(array, FormatLayout.SEGMENT_HEADER_SIZE);
        int trailerOffset = FormatLayout.SEGMENT_HEADER_SIZE + bodyLength;
        ByteBuffer.wrap(array).putLong(trailerOffset, XXHashFactory.fastestInstance().hash64().hash(array, 0,
                trailerOffset, FormatLayout.OBJECT_HASH_SEED));
        return new SealedSegment(spill, SegmentBytes.inMemory(array), body.reservedBytes(), firstTxid, lastTxid,
                blocks.totalRawBytes());
    }

    /** Drops a segment that will not be sealed: gives back its memory and deletes its file. */
    public void discard() throws IOException {
        sealed = true;
        giveBack();
        body.discard();
    }

    private void giveBack() {
        if (borrowed != null) {
            borrowed.giveBack();
            borrowed = null;
        }
    }
}
