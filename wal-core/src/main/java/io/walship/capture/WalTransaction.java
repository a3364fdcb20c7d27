package io.walship.capture;

/**
 * The pages one commit wrote, as read from the WAL: each page once (its last image), in page
 * number order, with the file offset of that image in the WAL. {@code newGeneration} is true
 * for the first transaction of a WAL that SQLite started over: offsets of older frames are void.
 */
public record WalTransaction(boolean newGeneration, int databasePages, int[] pgnos, long[] walOffsets, byte[] images) {
}
