package io.walship.internal.log;

import io.walship.BadObjectException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.zip.CRC32C;

/** Writes and reads what a primary's live stream carries (docs/FORMAT.md, "Stream frame", "Stream hello"). */
public final class StreamFrames {
    private StreamFrames() {
    }

    /** One frame: its kind, the stored txid it carries, and its payload (empty for stored frames). */
    public record Frame(byte kind, long storedTxid, byte[] payload) {
    }

    /** Writes one frame; the caller flushes. */
    public static void write(OutputStream out, byte kind, long storedTxid, byte[] payload) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(FormatLayout.STREAM_FRAME_HEADER_SIZE)
                .putInt(FormatLayout.STREAM_MAGIC_OFFSET, FormatLayout.STREAM_FRAME_MAGIC)
                .put(FormatLayout.STREAM_KIND_OFFSET, kind)
                .putLong(FormatLayout.STREAM_STORED_TXID_OFFSET, storedTxid)
                .putInt(FormatLayout.STREAM_LENGTH_OFFSET, payload.length);
        header.putInt(FormatLayout.STREAM_HEADER_CRC_OFFSET, crc(header.array()));
        out.write(header.array());
        out.write(payload);
    }

    /**
     * The next frame, or empty at a clean end of the stream (between frames).
     *
     * @throws BadObjectException CORRUPT: the header is damaged (CRC, magic, kind or length)
     * @throws EOFException           the stream ends inside a frame
     */
    public static Optional<Frame> read(InputStream in, String source) throws IOException {
        byte[] header = new byte[FormatLayout.STREAM_FRAME_HEADER_SIZE];
        int first = in.read();
        if (first < 0) {
            return Optional.empty();
        }
        header[0] = (byte) first;
        readFully(in, header, 1, header.length - 1);
        ByteBuffer h = ByteBuffer.wrap(header);
        if (h.getInt(FormatLayout.STREAM_HEADER_CRC_OFFSET) != crc(header)) {
            throw BadObjectException.corrupt(source, "stream frame header checksum mismatch", -1);
        }
        if (h.getInt(FormatLayout.STREAM_MAGIC_OFFSET) != FormatLayout.STREAM_FRAME_MAGIC) {
            throw BadObjectException.corrupt(source, "not a stream frame (magic "
                    + Integer.toHexString(h.getInt(FormatLayout.STREAM_MAGIC_OFFSET)) + ")", -1);
        }
        byte kind = h.get(FormatLayout.STREAM_KIND_OFFSET);
        int length = h.getInt(FormatLayout.STREAM_LENGTH_OFFSET);
        if (kind < FormatLayout.STREAM_KIND_SEGMENT || kind > FormatLayout.STREAM_KIND_END) {
            throw BadObjectException.corrupt(source, "unknown stream frame kind " + kind, -1);
        }
        if (length < 0 || length > FormatLayout.STREAM_MAX_PAYLOAD) {
            throw BadObjectException.corrupt(source, "stream frame payload of " + Integer.toUnsignedString(length)
                    + " bytes", -1);
        }
        byte[] payload = new byte[length];
        readFully(in, payload, 0, length);
        return Optional.of(new Frame(kind, h.getLong(FormatLayout.STREAM_STORED_TXID_OFFSET), payload));
    }

    /** What a client asks for: where to start, and the token it presents. */
    public record Hello(int version, long from, String token) {
    }

    /** Writes a client's hello; the caller flushes. */
    public static void writeHello(OutputStream out, long from, String token) throws IOException {
        byte[] bytes = token.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > FormatLayout.STREAM_MAX_TOKEN_BYTES) {
            throw new IllegalArgumentException("token longer than " + FormatLayout.STREAM_MAX_TOKEN_BYTES + " bytes");
        }
        ByteBuffer hello = ByteBuffer.allocate(FormatLayout.STREAM_HELLO_SIZE)
                .putInt(FormatLayout.STREAM_HELLO_MAGIC_OFFSET, FormatLayout.STREAM_HELLO_MAGIC)
                .putShort(FormatLayout.STREAM_HELLO_VERSION_OFFSET, FormatLayout.STREAM_VERSION)
                .putLong(FormatLayout.STREAM_HELLO_FROM_OFFSET, from)
                .putShort(FormatLayout.STREAM_HELLO_TOKEN_LENGTH_OFFSET, (short) bytes.length);
        out.write(hello.array());
        out.write(bytes);
    }

    /**
     * Reads a client's hello.
     *
     * @throws BadObjectException CORRUPT: not a hello (magic), or a token longer than the limit
     */
    public static Hello readHello(InputStream in, String source) throws IOException {
        byte[] header = new byte[FormatLayout.STREAM_HELLO_SIZE];
        readFully(in, header, 0, header.length);
        ByteBuffer h = ByteBuffer.wrap(header);
        if (h.getInt(FormatLayout.STREAM_HELLO_MAGIC_OFFSET) != FormatLayout.STREAM_HELLO_MAGIC) {
            throw BadObjectException.corrupt(source, "not a walship stream hello", -1);
        }
        int length = Short.toUnsignedInt(h.getShort(FormatLayout.STREAM_HELLO_TOKEN_LENGTH_OFFSET));
        if (length > FormatLayout.STREAM_MAX_TOKEN_BYTES) {
            throw BadObjectException.corrupt(source, "stream token of " + length + " bytes", -1);
        }
        byte[] token = new byte[length];
        readFully(in, token, 0, length);
        return new Hello(Short.toUnsignedInt(h.getShort(FormatLayout.STREAM_HELLO_VERSION_OFFSET)),
                h.getLong(FormatLayout.STREAM_HELLO_FROM_OFFSET), new String(token, StandardCharsets.UTF_8));
    }

    private static int crc(byte[] header) {
        CRC32C crc = new CRC32C();
        crc.update(header, 0, FormatLayout.STREAM_HEADER_CRC_OFFSET);
        return (int) crc.getValue();
    }

    private static void readFully(InputStream in, byte[] into, int offset, int length) throws IOException {
        int done = 0;
        while (done < length) {
            int n = in.read(into, offset + done, length - done);
            if (n < 0) {
                throw new EOFException("stream ends inside a frame");
            }
            done += n;
        }
    }
}
