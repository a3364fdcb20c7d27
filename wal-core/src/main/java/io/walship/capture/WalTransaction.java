package io.walship.capture;

import java.nio.ByteBuffer;

/**
 * The pages one commit wrote, as read from the WAL: each page once (its last image), in page
 * number order, with the file offset of that image in the WAL. {@code newGeneration} is true
 * for the first transaction of a WAL that SQLite started over: offsets of older frames are void.
 * The image of {@code pgnos[i]} is at {@code imageOffsets[i]} of {@code frames}, a buffer the
 * reader reuses: valid until its next read.
 */
public record WalTransaction(boolean newGeneration, int databasePages, int[] pgnos, long[] walOffsets,
                             ByteBuffer frames, int[] imageOffsets) {
}
