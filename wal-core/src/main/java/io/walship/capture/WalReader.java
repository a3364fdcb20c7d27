package io.walship.capture;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;

/**
 * Reads committed transactions from SQLite's {@code -wal} file, one commit at a time.
 *
 * <p>What it checks: the WAL header (magic, version, page size, header checksum), that every
 * frame carries the header's salts, and that the cumulative checksum chain continues from the
 * last frame read. What it leaves to the caller: knowing how many frames are committed (the
 * WAL hook says so) and deciding what to do about a {@link WalInterferenceException}.
 *
 * <p>The channel is opened once and kept for the life of the primary: closing any descriptor of
 * a file releases every POSIX lock the process holds on it, so walship never opens and closes
 * descriptors of SQLite's files while SQLite has them open. Not thread-safe: the capture thread
 * owns it.
 */
public final class WalReader {
    private final FileChannel wal;
    private final int pageSize;
    private final int frameSize;
    private ByteBuffer buffer = ByteBuffer.allocate(0);
    private final ByteBuffer header = ByteBuffer.allocate(WalLayout.HEADER_SIZE);
    private boolean headerRead;
    private boolean restartAllowed = true;
    private int salt1;
    private int salt2;
    private WalChecksum chain;
    private long framesRead;

    public WalReader(FileChannel wal, int pageSize) {
        this.wal = wal;
        this.pageSize = pageSize;
        this.frameSize = WalLayout.FRAME_HEADER_SIZE + pageSize;
    }

    /** Frames of the current WAL generation read so far. */
    public long framesRead() {
        return framesRead;
    }

    /**
     * Tells the reader that walship checkpointed every captured frame, so SQLite may start the
     * WAL over (new salts) with the next commit. Without this call a new generation is
     * interference.
     */
    public void checkpointed(boolean truncated) {
        restartAllowed = true;
        if (truncated) {
            headerRead = false;
            framesRead = 0;
        }
    }

    /**
     * Reads the frames {@code [framesRead, frames)}, which must form exactly one transaction
     * ending in a commit frame. The page images stay in this reader's buffer: the result is
     * valid until the next call.
     */
    public WalTransaction readTransaction(long frames) throws IOException {
        header.clear();
        readFully(header, 0);
        boolean newGeneration = !headerRead || saltsChanged(header);
        if (newGeneration) {
            if (!restartAllowed) {
                throw new WalInterferenceException("the WAL was restarted (new salts) though walship did not"
                        + " checkpoint: another process checkpointed or wrote the database");
            }
            startGeneration(header);
        }
        if (frames <= framesRead) {
            throw new WalInterferenceException("commit reported " + frames + " frames but " + framesRead
                    + " were already read: the WAL was reset by someone else");
        }
        int count = Math.toIntExact(frames - framesRead);
        long bytes = (long) count * frameSize;
        if (buffer.capacity() < bytes) {
            buffer = ByteBuffer.allocate(Math.toIntExact(Math.max(bytes, (long) buffer.capacity() * 2)));
        }
        buffer.clear().limit((int) bytes);
        readFully(buffer, WalLayout.frameOffset(framesRead, pageSize));

        int[] pgnoOfFrame = new int[count];
        int databasePages = 0;
        for (int i = 0; i < count; i++) {
            int at = i * frameSize;
            int pgno = buffer.getInt(at + WalLayout.FRAME_PGNO_OFFSET);
            int commitSize = buffer.getInt(at + WalLayout.FRAME_DB_SIZE_OFFSET);
            if (buffer.getInt(at + WalLayout.FRAME_SALT1_OFFSET) != salt1
                    || buffer.getInt(at + WalLayout.FRAME_SALT2_OFFSET) != salt2) {
                throw new WalInterferenceException("frame " + (framesRead + i) + " has salts of another WAL"
                        + " generation");
            }
            chain.update(buffer, at, WalLayout.FRAME_CHECKSUMMED_HEADER_BYTES);
            chain.update(buffer, at + WalLayout.FRAME_HEADER_SIZE, pageSize);
            if (!chain.matches(buffer.getInt(at + WalLayout.FRAME_CHECKSUM1_OFFSET),
                    buffer.getInt(at + WalLayout.FRAME_CHECKSUM2_OFFSET))) {
                throw new WalInterferenceException("frame " + (framesRead + i) + " breaks the WAL checksum chain");
            }
            if (pgno < 1) {
                throw new WalInterferenceException("frame " + (framesRead + i) + " has page number " + pgno);
            }
            boolean last = i == count - 1;
            if (commitSize != 0 && !last) {
                throw new WalInterferenceException("frame " + (framesRead + i) + " commits a transaction this"
                        + " connection did not: another process wrote the database");
            }
            if (last && commitSize == 0) {
                throw new WalInterferenceException("the last reported frame " + (framesRead + i)
                        + " is not a commit frame");
            }
            if (last) {
                databasePages = commitSize;
            }
            pgnoOfFrame[i] = pgno;
        }
        // Keep the last image of each page; a transaction may write a page more than once.
        // Sorting (pgno, frame) pairs costs O(frames log frames), whatever the database size.
        long[] pageAndFrame = new long[count];
        for (int i = 0; i < count; i++) {
            pageAndFrame[i] = ((long) pgnoOfFrame[i] << 32) | i;
        }
        Arrays.sort(pageAndFrame);
        int[] pgnos = new int[count];
        long[] offsets = new long[count];
        int[] imageOffsets = new int[count];
        int n = 0;
        for (int i = 0; i < count; i++) {
            int pgno = (int) (pageAndFrame[i] >>> 32);
            boolean lastOfPage = i == count - 1 || (int) (pageAndFrame[i + 1] >>> 32) != pgno;
            if (!lastOfPage || pgno > databasePages) {
                continue; // an older image, or a page past the end of the database after commit
            }
            int frame = (int) pageAndFrame[i];
            pgnos[n] = pgno;
            offsets[n] = WalLayout.frameOffset(framesRead + frame, pageSize) + WalLayout.FRAME_HEADER_SIZE;
            imageOffsets[n] = frame * frameSize + WalLayout.FRAME_HEADER_SIZE;
            n++;
        }
        framesRead = frames;
        restartAllowed = false;
        if (n < count) {
            pgnos = Arrays.copyOf(pgnos, n);
            offsets = Arrays.copyOf(offsets, n);
            imageOffsets = Arrays.copyOf(imageOffsets, n);
        }
        return new WalTransaction(newGeneration, databasePages, pgnos, offsets, buffer, imageOffsets);
    }

    private boolean saltsChanged(ByteBuffer header) {
        return header.getInt(WalLayout.HEADER_SALT1_OFFSET) != salt1
                || header.getInt(WalLayout.HEADER_SALT2_OFFSET) != salt2;
    }

    private void startGeneration(ByteBuffer header) {
        int magic = header.getInt(WalLayout.HEADER_MAGIC_OFFSET);
        if (magic != WalLayout.MAGIC_LITTLE_ENDIAN && magic != WalLayout.MAGIC_BIG_ENDIAN) {
            throw new WalInterferenceException("the WAL header has magic 0x" + Integer.toHexString(magic));
        }
        int version = header.getInt(WalLayout.HEADER_VERSION_OFFSET);
        int walPageSize = header.getInt(WalLayout.HEADER_PAGE_SIZE_OFFSET);
        if (version != WalLayout.FORMAT_VERSION || walPageSize != pageSize) {
            throw new WalInterferenceException("the WAL header has version " + version + " and page size "
                    + walPageSize + ", expected " + WalLayout.FORMAT_VERSION + " and " + pageSize);
        }
        WalChecksum headerChecksum = new WalChecksum(magic == WalLayout.MAGIC_BIG_ENDIAN, 0, 0);
        headerChecksum.update(header, 0, WalLayout.HEADER_CHECKSUM1_OFFSET);
        if (!headerChecksum.matches(header.getInt(WalLayout.HEADER_CHECKSUM1_OFFSET),
                header.getInt(WalLayout.HEADER_CHECKSUM2_OFFSET))) {
            throw new WalInterferenceException("the WAL header checksum does not match");
        }
        salt1 = header.getInt(WalLayout.HEADER_SALT1_OFFSET);
        salt2 = header.getInt(WalLayout.HEADER_SALT2_OFFSET);
        chain = headerChecksum;
        framesRead = 0;
        headerRead = true;
    }

    private void readFully(ByteBuffer target, long position) throws IOException {
        while (target.hasRemaining()) {
            int n = wal.read(target, position);
            if (n < 0) {
                throw new WalInterferenceException("the WAL ends at " + position + " before the reported frames");
            }
            position += n;
        }
    }
}
