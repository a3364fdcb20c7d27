package io.walship.internal.log;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The compressed body of a segment being built: chunks in memory while the {@link SegmentSpill}
 * budget grants them, then a temporary file that also holds room for the header in front and
 * the trailer behind. Growing never copies what was written. Chunks start at 4 KiB and double
 * up to 64 KiB, so the segment of a database writing a few rows a second costs a few KiB, not
 * 64 (a thousand such databases: 4 MiB, not 64).
 */
final class SegmentBody extends OutputStream {
    private static final int FIRST_CHUNK_BYTES = 4 << 10;
    private static final int CHUNK_BYTES = 64 << 10;

    private final SegmentSpill spill;
    private final List<byte[]> chunks = new ArrayList<>();
    private byte[] current;
    private int position;
    private long size;
    private long reservedBytes;
    private Path file;
    private FileChannel channel;
    private OutputStream fileOut;

    SegmentBody(SegmentSpill spill) {
        this.spill = spill;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        size += len;
        if (fileOut != null) {
            fileOut.write(b, off, len);
            return;
        }
        while (len > 0) {
            if (current == null || position == current.length) {
                int chunk = current == null ? FIRST_CHUNK_BYTES : Math.min(CHUNK_BYTES, current.length * 2);
                if (!spill.reserve(chunk)) {
                    spillToFile();
                    fileOut.write(b, off, len);
                    return;
                }
                reservedBytes += chunk;
                current = new byte[chunk];
                chunks.add(current);
                position = 0;
            }
            int n = Math.min(len, current.length - position);
            System.arraycopy(b, off, current, position, n);
            position += n;
            off += n;
            len -= n;
        }
    }

    /** Moves what is in memory to a new spill file, after room for the header, and writes there from now on. */
    private void spillToFile() throws IOException {
        file = spill.newFile();
        channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.READ);
        channel.position(FormatLayout.SEGMENT_HEADER_SIZE);
        fileOut = new BufferedOutputStream(Channels.newOutputStream(channel), CHUNK_BYTES);
        long left = size;
        for (byte[] chunk : chunks) {
            int n = (int) Math.min(left, chunk.length);
            fileOut.write(chunk, 0, n);
            left -= n;
        }
        chunks.clear();
        current = null;
        spill.release(reservedBytes);
        reservedBytes = 0;
    }

    long size() {
        return size;
    }

    boolean spilled() {
        return file != null;
    }

    /** Memory reserved for the chunks; handed over to whoever seals the segment. */
    long reservedBytes() {
        return reservedBytes;
    }

    /** Copies the body to {@code target} at {@code offset}; in memory only. */
    void copyTo(byte[] target, int offset) {
        long left = size;
        for (byte[] chunk : chunks) {
            int n = (int) Math.min(left, chunk.length);
            System.arraycopy(chunk, 0, target, offset, n);
            offset += n;
            left -= n;
        }
        chunks.clear();
    }

    /**
     * Spilled only: writes {@code header} in front and the whole-object hash behind, closes the
     * file and returns its length.
     */
    long finishFile(ByteBuffer header) throws IOException {
        fileOut.flush();
        while (header.hasRemaining()) {
            channel.write(header, header.position());
        }
        long trailerOffset = FormatLayout.SEGMENT_HEADER_SIZE + size;
        ByteBuffer trailer = ByteBuffer.allocate(FormatLayout.TRAILER_SIZE)
                .putLong(0, SegmentReader.hashOf(channel, trailerOffset));
        while (trailer.hasRemaining()) {
            channel.write(trailer, trailerOffset + trailer.position());
        }
        channel.close();
        return trailerOffset + FormatLayout.TRAILER_SIZE;
    }

    Path file() {
        return file;
    }

    /** Gives back memory and deletes the file of a body that will not be sealed. */
    void discard() throws IOException {
        chunks.clear();
        spill.release(reservedBytes);
        reservedBytes = 0;
        if (file != null) {
            channel.close();
            Files.deleteIfExists(file);
        }
    }
}
