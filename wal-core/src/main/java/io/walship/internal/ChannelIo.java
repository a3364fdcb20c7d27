package io.walship.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Positional reads and writes that finish: a {@link FileChannel} may move fewer bytes than asked
 * in one call, so each loops until the buffer is done (or, reading, the file ends: an error
 * naming the offset, never a short buffer taken for a whole one).
 */
public final class ChannelIo {
    private ChannelIo() {
    }

    /** Fills {@code buffer} (from its position) from {@code position} of the file. */
    public static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("file ends before offset " + (position + buffer.limit()));
            }
        }
    }

    /** Writes all of {@code buffer} (from its position) at {@code position} of the file; returns the bytes written. */
    public static long writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long written = 0;
        while (buffer.hasRemaining()) {
            written += channel.write(buffer, position + written);
        }
        return written;
    }
}
