package io.walship.internal.log;

import io.walship.internal.DirectIo;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * A snapshot's pages decoded ahead of the thread that writes them, on a thread of its own: one
 * side reads the object, checks its hash and decompresses it; the other hashes the pages and
 * writes them in batches with positional writes. On two cores a restore then runs at about the speed of
 * its slower half instead of the sum of both (issue #16: restores were slower than {@code cp}).
 *
 * <p>The decoder decompresses blocks straight into a batch (a batch is four blocks: 4 MiB, in a
 * direct buffer, so that neither side copies it); the writer
 * hashes the batch's pages and writes it (measured on two cores: the decoder, which also reads
 * and hashes the object and decompresses, is the busier side, so the page hashes go to the
 * writer). {@link #next()} hands out batches in page order; the last call returns null only after
 * the snapshot's trailer was checked ({@link SnapshotReader#finish()}), and rethrows whatever the
 * decoder met. Three batches circulate, aligned for the image's direct writes (ADR 0031): memory
 * stays bounded whatever the snapshot's size. Close it to stop the decoder early.
 */
public final class SnapshotPages implements Closeable {
    private static final int BATCH_BYTES = 4 << 20;
    private static final int BATCHES = 3;
    private static final Batch END = new Batch(ByteBuffer.allocate(0), 1);

    /** Consecutive pages from {@code firstPgno}, their images one after the other in {@code pages}. */
    public static final class Batch {
        private final ByteBuffer pages;
        private final int pageSize;
        private int firstPgno;
        private int count;

        private Batch(ByteBuffer pages, int pageSize) {
            this.pages = pages;
            this.pageSize = pageSize;
        }

        public int firstPgno() {
            return firstPgno;
        }

        public int count() {
            return count;
        }

        /**
         * The images, from index 0 (a direct buffer: written without a copy into the JDK's own);
         * valid until the next call of {@link SnapshotPages#next()}. Read it with absolute
         * indexes or through a duplicate.
         */
        public ByteBuffer pages() {
            return pages;
        }

        public int length() {
            return count * pageSize;
        }
    }

    private final SnapshotReader reader;
    private final BlockingQueue<Batch> free = new ArrayBlockingQueue<>(BATCHES);
    private final BlockingQueue<Object> full = new ArrayBlockingQueue<>(BATCHES + 1);
    private final Thread decoder;
    private Batch lent;
    private boolean done;

    /** Starts decoding {@code reader}'s pages; the caller keeps ownership of its stream. */
    public SnapshotPages(SnapshotReader reader, String name) {
        this.reader = reader;
        int pageSize = reader.pageSize();
        int pagesPerBatch = Math.max(1, BATCH_BYTES / pageSize);
        for (int i = 0; i < BATCHES; i++) {
            int bytes = pagesPerBatch * pageSize;
            // aligned for direct writes (DatabaseImage): the disk takes them straight from here
            free.add(new Batch(DirectIo.allocateAligned(bytes), pageSize));
        }
        decoder = new Thread(this::decode, "walship-snapshot-decoder-" + name);
        decoder.setDaemon(true);
        decoder.start();
    }

    private void decode() {
        try {
            int pageSize = reader.pageSize();
            int pgno = 1;
            while (pgno <= reader.pageCount()) {
                Batch batch = free.take();
                int count = Math.min(batch.pages.capacity() / pageSize, reader.pageCount() - pgno + 1);
                reader.readPages(batch.pages, 0, count);
                batch.firstPgno = pgno;
                batch.count = count;
                full.put(batch);
                pgno += count;
            }
            reader.finish();
            full.put(END);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // closed early: nobody waits for more
        } catch (Throwable t) {
            full.offer(t);
        }
    }

    /**
     * The next batch, after giving back the one handed out before; null once every page was
     * handed out and the snapshot's trailer matched.
     *
     * @throws IOException whatever decoding met (a damaged object, a read error)
     */
    public Batch next() throws IOException {
        if (lent != null) {
            free.add(lent);
            lent = null;
        }
        if (done) {
            return null;
        }
        Object item;
        try {
            item = full.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while decoding a snapshot");
        }
        if (item == END) {
            done = true;
            return null;
        }
        if (item instanceof Batch batch) {
            lent = batch;
            return batch;
        }
        done = true;
        Throwable failure = (Throwable) item;
        if (failure instanceof IOException e) {
            throw e;
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        throw (Error) failure;
    }

    /** Stops the decoder if it still runs and waits for it, so the caller may close the stream. */
    @Override
    public void close() {
        decoder.interrupt();
        try {
            decoder.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
