package io.walship.internal.capture;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The pages one commit wrote, as read from the WAL: each page once (its last image), in page
 * number order. {@code newGeneration} is true for the first transaction of a WAL that SQLite
 * started over: offsets of older frames are void. Valid until the {@link WalReader} that made
 * it reads again.
 */
public final class WalTransaction {
    /** Receives each page's last image: {@code pageSize} bytes at {@code offset} of {@code buffer}, valid during the call. */
    @FunctionalInterface
    public interface PageVisitor {
        /** @param walOffset where the image lies in the WAL file */
        void page(int pgno, long walOffset, ByteBuffer buffer, int offset) throws IOException;
    }

    private final boolean newGeneration;
    private final int databasePages;
    private final int pageCount;
    // a transaction that fits in the reader's chunk: its pages, their WAL offsets and their place in the chunk
    private final int[] pgnos;
    private final long[] walOffsets;
    private final ByteBuffer frames;
    private final int[] imageOffsets;
    // a larger one: per page, 1 + the index of the frame with its last image (0: not written)
    private final WalReader reader;
    private final long firstFrame;
    private final int[] lastFrame;

    WalTransaction(boolean newGeneration, int databasePages, int[] pgnos, long[] walOffsets, ByteBuffer frames,
                   int[] imageOffsets) {
        this.newGeneration = newGeneration;
        this.databasePages = databasePages;
        this.pageCount = pgnos.length;
        this.pgnos = pgnos;
        this.walOffsets = walOffsets;
        this.frames = frames;
        this.imageOffsets = imageOffsets;
        this.reader = null;
        this.firstFrame = -1;
        this.lastFrame = null;
    }

    WalTransaction(WalReader reader, boolean newGeneration, int databasePages, long firstFrame, int[] lastFrame) {
        this.newGeneration = newGeneration;
        this.databasePages = databasePages;
        int count = 0;
        for (int i = 0; i < Math.min(databasePages, lastFrame.length); i++) {
            count += lastFrame[i] != 0 ? 1 : 0;
        }
        this.pageCount = count;
        this.pgnos = null;
        this.walOffsets = null;
        this.frames = null;
        this.imageOffsets = null;
        this.reader = reader;
        this.firstFrame = firstFrame;
        this.lastFrame = lastFrame;
    }

    public boolean newGeneration() {
        return newGeneration;
    }

    /** Size of the database after the commit, in pages. */
    public int databasePages() {
        return databasePages;
    }

    /** How many pages the commit wrote (each once). */
    public int pageCount() {
        return pageCount;
    }

    /** Hands every page's last image to {@code visitor}, in page order; may be called more than once. */
    public void forEachPage(PageVisitor visitor) throws IOException {
        if (reader != null) {
            reader.visitLargeTransaction(firstFrame, lastFrame, databasePages, visitor);
            return;
        }
        for (int i = 0; i < pgnos.length; i++) {
            visitor.page(pgnos[i], walOffsets[i], frames, imageOffsets[i]);
        }
    }
}
