package io.walship.internal.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * Test fixture: one committed write transaction held whole in memory - its txid, commit time,
 * the database size after commit, the images of the pages it changed (each page once) and the
 * database checksum after commit - to build segments from and to compare what a reader returns.
 * Production code never holds a transaction whole: it streams pages through
 * {@link SegmentWriter} and {@link SegmentReader}.
 *
 * <p>Immutable by convention: the arrays are owned by the transaction and must not be changed
 * after construction.
 */
public final class Transaction {
    private final long txid;
    private final long commitMillis;
    private final int databasePages;
    private final int pageSize;
    private final int[] pgnos;
    private final byte[] pageImages;
    private final long checksumAfter;

    /**
     * @param pgnos      the changed pages, each once
     * @param pageImages {@code pgnos.length * pageSize} bytes: the image of {@code pgnos[i]} at {@code i * pageSize}
     */
    public Transaction(long txid, long commitMillis, int databasePages, int pageSize, int[] pgnos, byte[] pageImages,
                       long checksumAfter) {
        Objects.requireNonNull(pgnos, "pgnos");
        Objects.requireNonNull(pageImages, "pageImages");
        if ((long) pgnos.length * pageSize != pageImages.length) {
            throw new IllegalArgumentException("page images hold " + pageImages.length + " bytes, expected "
                    + pgnos.length + " x " + pageSize);
        }
        this.txid = txid;
        this.commitMillis = commitMillis;
        this.databasePages = databasePages;
        this.pageSize = pageSize;
        this.pgnos = pgnos;
        this.pageImages = pageImages;
        this.checksumAfter = checksumAfter;
    }

    public long txid() {
        return txid;
    }

    /** Commit time on the primary, milliseconds since the epoch. */
    public long commitMillis() {
        return commitMillis;
    }

    /** Size of the database after commit, in pages. */
    public int databasePages() {
        return databasePages;
    }

    public int pageSize() {
        return pageSize;
    }

    public int pageCount() {
        return pgnos.length;
    }

    public int pgno(int index) {
        return pgnos[index];
    }

    /** A read-only view of the image of the {@code index}-th page. */
    public ByteBuffer page(int index) {
        return ByteBuffer.wrap(pageImages, index * pageSize, pageSize).slice().asReadOnlyBuffer();
    }

    /** The backing array of all page images; page {@code i} starts at {@code i * pageSize()}. Do not modify. */
    public byte[] pageImages() {
        return pageImages;
    }

    /** Database checksum after this transaction. */
    public long checksumAfter() {
        return checksumAfter;
    }

    /** Bytes this transaction takes in a segment body, uncompressed. */
    public long encodedBytes() {
        return SegmentWriter.encodedBytes(pgnos.length, pageSize);
    }

    /** Writes this transaction into {@code segment}. */
    public void writeTo(SegmentWriter segment) throws IOException {
        segment.begin(txid, commitMillis, databasePages, pgnos.length);
        for (int i = 0; i < pgnos.length; i++) {
            segment.page(pgnos[i], pageImages, i * pageSize);
        }
        segment.end(checksumAfter);
    }

    /** A segment, in memory, of {@code txns} starting from a database with checksum {@code checksumBefore}. */
    public static byte[] segment(int pageSize, long checksumBefore, Transaction... txns) {
        try {
            SegmentWriter writer = new SegmentWriter(pageSize, checksumBefore);
            for (Transaction txn : txns) {
                txn.writeTo(writer);
            }
            return writer.seal().bytes().orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Twelve transactions of {@code pageSize} pages, from {@code seed}: most over a few pages that
     * later ones revisit (stored as deltas), two of about 3 MiB (several blocks each).
     */
    public static List<Transaction> mixed(int pageSize, long seed) {
        Random random = new Random(seed);
        List<Transaction> txns = new ArrayList<>();
        int databasePages = 4000;
        for (long txid = 1; txid <= 12; txid++) {
            int count = txid % 5 == 0 ? (3 << 20) / pageSize : 1 + random.nextInt(6); // ~3 MiB: several blocks
            int[] pgnos = new int[count];
            for (int i = 0; i < count; i++) {
                pgnos[i] = count > 6 ? i + 1 : 1 + random.nextInt(8) * 7 + i; // small ones revisit pages: deltas
            }
            pgnos = Arrays.stream(pgnos).distinct().toArray();
            byte[] images = new byte[pgnos.length * pageSize];
            for (int i = 0; i < images.length; i += 8) {
                images[i] = (byte) random.nextInt(4); // compressible, not constant
            }
            txns.add(new Transaction(txid, 1_700_000_000_000L + txid, databasePages, pageSize, pgnos, images,
                    seed * 1_000 + txid));
        }
        return txns;
    }

    /** The next transaction of {@code reader}, whole, or null after the last. */
    public static Transaction next(SegmentReader reader) {
        try {
            SegmentReader.TransactionHeader header = reader.nextTransaction();
            if (header == null) {
                return null;
            }
            int[] pgnos = new int[header.pageCount()];
            byte[] images = new byte[header.pageCount() * reader.pageSize()];
            int[] index = new int[1];
            long checksumAfter = reader.readPages((pgno, image) -> {
                pgnos[index[0]] = pgno;
                System.arraycopy(image, 0, images, index[0]++ * reader.pageSize(), reader.pageSize());
            });
            return new Transaction(header.txid(), header.commitMillis(), header.databasePages(), reader.pageSize(),
                    pgnos, images, checksumAfter);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every transaction of {@code reader}, whole. */
    public static List<Transaction> readAll(SegmentReader reader) {
        List<Transaction> out = new ArrayList<>();
        for (Transaction t = next(reader); t != null; t = next(reader)) {
            out.add(t);
        }
        return out;
    }

    @Override
    public String toString() {
        return "Transaction[txid=" + txid + ", pages=" + pgnos.length + ", databasePages=" + databasePages + "]";
    }
}
