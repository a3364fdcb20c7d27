package io.walship.internal.capture;

import io.walship.internal.ChannelIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads committed transactions from SQLite's {@code -wal} file, one commit at a time.
 *
 * <p>What it checks: the WAL header (magic, version, page size, header checksum), that every
 * frame carries the header's salts, and that the cumulative checksum chain continues from the
 * last frame read. The header is read at the first commit and at the first commit after each of
 * walship's checkpoints, where SQLite may start the WAL over; between them the frames' salts
 * stand for it, which saves a read per commit. A WAL another process started over shows there
 * all the same: as frames with other salts, or as fewer frames than were read. What it leaves
 * to the caller: knowing how many frames are committed (the WAL hook says so) and deciding what
 * to do about a {@link WalInterferenceException}.
 *
 * <p>The channel is opened once and kept for the life of the primary: closing any descriptor of
 * a file releases every POSIX lock the process holds on it, so walship never opens and closes
 * descriptors of SQLite's files while SQLite has them open. Not thread-safe: the capture lane
 * owns it.
 */
public final class WalReader {
    /** How much of the WAL is read at a time. */
    private static final int CHUNK_BYTES = 1 << 20;

    private final FileChannel wal;
    private final int pageSize;
    private final int frameSize;
    /** Frames are read a chunk at a time: what a transaction costs in memory, whatever its size. */
    private final ByteBuffer chunk;
    private final ByteBuffer header = ByteBuffer.allocate(WalLayout.HEADER_SIZE);
    private boolean headerRead;
    private boolean restartAllowed = true;
    private int salt1;
    private int salt2;
    private WalChecksum chain;
    private long framesRead;
    /**
     * Frames {@code [heldFirst, heldEnd)} of the current generation are in the chunk from its
     * start, read ahead for commits queued behind the one being read; none when heldEnd is -1.
     */
    private long heldFirst;
    private long heldEnd = -1;

    public WalReader(FileChannel wal, int pageSize) {
        this.wal = wal;
        this.pageSize = pageSize;
        this.frameSize = WalLayout.FRAME_HEADER_SIZE + pageSize;
        // direct: the kernel reads into it, with no copy out of a temporary direct buffer
        this.chunk = ByteBuffer.allocateDirect(Math.max(1, CHUNK_BYTES / frameSize) * frameSize);
    }

    /** A WAL generation: the salts every frame of it carries. SQLite starts a new one when it resets the WAL. */
    public record Generation(int salt1, int salt2) {
    }

    /** The generation of the WAL's header as it is now, or null when the WAL is shorter than a header. */
    public static Generation generationOf(FileChannel wal) throws IOException {
        if (wal.size() < WalLayout.HEADER_SIZE) {
            return null;
        }
        ByteBuffer header = ByteBuffer.allocate(WalLayout.HEADER_SIZE);
        ChannelIo.readFully(wal, header, 0);
        return saltsOf(header);
    }

    private static Generation saltsOf(ByteBuffer header) {
        return new Generation(header.getInt(WalLayout.HEADER_SALT1_OFFSET),
                header.getInt(WalLayout.HEADER_SALT2_OFFSET));
    }

    /** What {@link #scan} found: the WAL's generation (null when its header is not valid) and its commits. */
    public record Contents(Generation generation, List<Long> commitFrames) {
        static final Contents EMPTY = new Contents(null, List.of());
    }

    /** The generation of the frames read last, or null before the first. */
    public Generation generation() {
        return chain == null ? null : new Generation(salt1, salt2);
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
        heldEnd = -1;
        if (truncated) {
            headerRead = false;
            framesRead = 0;
        }
    }

    /**
     * Positions the reader after the WAL's first {@code frames} frames, which walship folded into
     * the database before the primary last stopped, checking them as it goes (salts, checksum
     * chain): the next commit either follows them or starts a new generation. Nothing for 0.
     */
    public void skipFolded(long frames) throws IOException {
        if (frames == 0) {
            return;
        }
        header.clear();
        readFully(header, 0);
        startGeneration(header);
        int framesPerChunk = chunk.capacity() / frameSize;
        for (long first = 0; first < frames; first += framesPerChunk) {
            int n = (int) Math.min(framesPerChunk, frames - first);
            chunk.clear().limit(n * frameSize);
            readFully(chunk, WalLayout.frameOffset(first, pageSize));
            for (int i = 0; i < n; i++) {
                String problem = checkFrame(chunk, i * frameSize, first + i);
                if (problem != null) {
                    throw new WalInterferenceException(problem + ", within the frames the last checkpoint folded");
                }
            }
        }
        framesRead = frames;
        restartAllowed = true;
    }

    /**
     * Reads the frames {@code [framesRead, frames)}, which must form exactly one transaction
     * ending in a commit frame, and checks them (salts, checksum chain, one commit frame at the
     * end). Memory does not grow with the transaction: frames are read a chunk at a time; a
     * transaction that fits in one chunk stays there, a larger one keeps, per page of the
     * database, the frame holding the page's last image and reads the images again when they
     * are visited. The result is valid until the next call.
     */
    public WalTransaction readTransaction(long frames) throws IOException {
        return readTransaction(frames, null);
    }

    /**
     * As {@link #readTransaction(long)}, for a commit whose WAL generation was read when it
     * returned ({@code written}, null when not known): frames of any other generation are
     * interference. After walship's own checkpoint a new generation is allowed, and a capture
     * still behind the writer would otherwise take another process's restarted WAL for this
     * commit whenever its frame count matched (found by ExternalInterferenceTest under load).
     */
    public WalTransaction readTransaction(long frames, Generation written) throws IOException {
        return readTransaction(frames, written, frames);
    }

    /**
     * As {@link #readTransaction(long, Generation)}, and reads ahead up to {@code readAhead}
     * frames of this generation (commits queued behind this one, so committed) into the chunk
     * while they fit: their transactions then take no read of their own. Frames read ahead are
     * checked when their transaction is read, like any other.
     */
    public WalTransaction readTransaction(long frames, Generation written, long readAhead) throws IOException {
        boolean newGeneration = false;
        if (!headerRead || restartAllowed || written != null) {
            header.clear();
            readFully(header, 0);
            if (written != null && !written.equals(saltsOf(header))) {
                throw new WalInterferenceException("the WAL was started over after commit frame " + frames
                        + " was written and before it was captured: another process checkpointed and wrote the"
                        + " database");
            }
            newGeneration = !headerRead || saltsChanged(header);
            if (newGeneration) {
                if (!restartAllowed) {
                    throw new WalInterferenceException("the WAL was restarted (new salts) though walship did not"
                            + " checkpoint: another process checkpointed or wrote the database");
                }
                startGeneration(header);
            }
        }
        if (frames <= framesRead) {
            throw new WalInterferenceException("commit reported " + frames + " frames but " + framesRead
                    + " were already read: the WAL was reset by someone else");
        }
        long count = frames - framesRead;
        long firstFrame = framesRead;
        int framesPerChunk = chunk.capacity() / frameSize;
        boolean buffered = count <= framesPerChunk;
        long[] pageAndFrame = buffered ? new long[(int) count] : null;
        int[] lastFrame = buffered ? null : new int[0];
        int databasePages = 0;
        int base = 0; // where firstFrame starts in the chunk
        if (buffered) {
            base = holdFrames(firstFrame, frames, Math.min(Math.max(frames, readAhead), firstFrame + framesPerChunk));
        } else {
            heldEnd = -1;
        }
        for (long chunkStart = 0; chunkStart < count; chunkStart += framesPerChunk) {
            int n = (int) Math.min(framesPerChunk, count - chunkStart);
            if (!buffered) {
                chunk.clear().limit(n * frameSize);
                readFully(chunk, WalLayout.frameOffset(firstFrame + chunkStart, pageSize));
            }
            for (int i = 0; i < n; i++) {
                int at = base + i * frameSize;
                long frame = chunkStart + i;
                String problem = checkFrame(chunk, at, firstFrame + frame);
                if (problem != null) {
                    throw new WalInterferenceException(problem);
                }
                int pgno = chunk.getInt(at + WalLayout.FRAME_PGNO_OFFSET);
                int commitSize = chunk.getInt(at + WalLayout.FRAME_DB_SIZE_OFFSET);
                boolean last = frame == count - 1;
                if (commitSize != 0 && !last) {
                    throw new WalInterferenceException("frame " + (firstFrame + frame) + " commits a transaction"
                            + " this connection did not: another process wrote the database");
                }
                if (last && commitSize == 0) {
                    throw new WalInterferenceException("the last reported frame " + (firstFrame + frame)
                            + " is not a commit frame");
                }
                if (last) {
                    databasePages = commitSize;
                }
                if (buffered) {
                    pageAndFrame[i] = ((long) pgno << 32) | i;
                } else {
                    if (pgno > lastFrame.length) {
                        lastFrame = Arrays.copyOf(lastFrame, Math.max(pgno, lastFrame.length * 3 / 2 + 16));
                    }
                    lastFrame[pgno - 1] = Math.toIntExact(frame + 1);
                }
            }
        }
        framesRead = frames;
        restartAllowed = false;
        if (!buffered) {
            return new WalTransaction(this, newGeneration, databasePages, firstFrame, lastFrame);
        }
        // Keep the last image of each page; a transaction may write a page more than once.
        // Sorting (pgno, frame) pairs costs O(frames log frames), whatever the database size.
        Arrays.sort(pageAndFrame);
        int[] pgnos = new int[(int) count];
        long[] offsets = new long[(int) count];
        int[] imageOffsets = new int[(int) count];
        int kept = 0;
        for (int i = 0; i < count; i++) {
            int pgno = (int) (pageAndFrame[i] >>> 32);
            boolean lastOfPage = i == count - 1 || (int) (pageAndFrame[i + 1] >>> 32) != pgno;
            if (!lastOfPage || pgno > databasePages) {
                continue; // an older image, or a page past the end of the database after commit
            }
            int frame = (int) pageAndFrame[i];
            pgnos[kept] = pgno;
            offsets[kept] = WalLayout.frameOffset(firstFrame + frame, pageSize) + WalLayout.FRAME_HEADER_SIZE;
            imageOffsets[kept] = base + frame * frameSize + WalLayout.FRAME_HEADER_SIZE;
            kept++;
        }
        return new WalTransaction(newGeneration, databasePages, Arrays.copyOf(pgnos, kept),
                Arrays.copyOf(offsets, kept), chunk, Arrays.copyOf(imageOffsets, kept));
    }

    /**
     * Makes frames {@code [first, needed)} available in the chunk and returns where {@code first}
     * starts there: from the frames held already, or read now together with those up to
     * {@code wanted} that the file has.
     */
    private int holdFrames(long first, long needed, long wanted) throws IOException {
        if (heldEnd >= needed && heldFirst <= first) {
            return (int) ((first - heldFirst) * frameSize);
        }
        heldEnd = -1;
        chunk.clear().limit((int) ((wanted - first) * frameSize));
        read(chunk, WalLayout.frameOffset(first, pageSize), (int) ((needed - first) * frameSize));
        heldFirst = first;
        heldEnd = first + chunk.position() / frameSize;
        return 0;
    }

    /**
     * For a transaction too large for one chunk: visits, in page order, the last image of every
     * page up to {@code databasePages}, reading runs of consecutive frames into the chunk.
     */
    void visitLargeTransaction(long firstFrame, int[] lastFrame, int databasePages, WalTransaction.PageVisitor visitor)
            throws IOException {
        heldEnd = -1;
        int framesPerChunk = chunk.capacity() / frameSize;
        int limit = Math.min(databasePages, lastFrame.length);
        int pgno = 1;
        while (pgno <= limit) {
            if (lastFrame[pgno - 1] == 0) {
                pgno++;
                continue;
            }
            int run = 1; // pages whose last images lie in consecutive frames: one read
            while (run < framesPerChunk && pgno + run <= limit
                    && lastFrame[pgno + run - 1] == lastFrame[pgno - 1] + run) {
                run++;
            }
            chunk.clear().limit(run * frameSize);
            long offset = WalLayout.frameOffset(firstFrame + lastFrame[pgno - 1] - 1, pageSize);
            readFully(chunk, offset);
            for (int i = 0; i < run; i++) {
                int imageOffset = i * frameSize + WalLayout.FRAME_HEADER_SIZE;
                visitor.page(pgno + i, offset + imageOffset, chunk, imageOffset);
            }
            pgno += run;
        }
    }

    /**
     * The commits the WAL holds, as SQLite's recovery finds them: for each commit frame of the
     * current generation, the number of frames up to and including it, until the first frame
     * whose salts, checksum chain or page number is wrong, or the end of the file. Empty when the
     * WAL is empty or its header is not valid. Reads the WAL once, a few frames at a time.
     */
    public static Contents scan(FileChannel wal, int pageSize) throws IOException {
        WalReader reader = new WalReader(wal, pageSize);
        if (wal.size() < WalLayout.HEADER_SIZE) {
            return Contents.EMPTY;
        }
        reader.readFully(reader.header, 0);
        try {
            reader.startGeneration(reader.header);
        } catch (WalInterferenceException e) {
            return Contents.EMPTY; // SQLite ignores a WAL whose header is not valid, and so does walship
        }
        return new Contents(reader.generation(), reader.commitsOfGeneration());
    }

    /** After the header was read: the frame count at each commit frame of this generation's valid frames. */
    private List<Long> commitsOfGeneration() throws IOException {
        List<Long> commits = new ArrayList<>();
        int framesPerRead = chunk.capacity() / frameSize;
        ByteBuffer frames = chunk;
        long total = (wal.size() - WalLayout.HEADER_SIZE) / frameSize;
        for (long first = 0; first < total; first += framesPerRead) {
            int count = (int) Math.min(framesPerRead, total - first);
            frames.clear().limit(count * frameSize);
            readFully(frames, WalLayout.frameOffset(first, pageSize));
            for (int i = 0; i < count; i++) {
                int at = i * frameSize;
                if (checkFrame(frames, at, first + i) != null) {
                    return commits;
                }
                if (frames.getInt(at + WalLayout.FRAME_DB_SIZE_OFFSET) != 0) {
                    commits.add(first + i + 1);
                }
            }
        }
        return commits;
    }

    /**
     * Checks one frame against the generation's salts and continues the checksum chain over it;
     * returns what is wrong, or null when the frame belongs to the chain.
     */
    private String checkFrame(ByteBuffer frames, int at, long frame) {
        if (frames.getInt(at + WalLayout.FRAME_SALT1_OFFSET) != salt1
                || frames.getInt(at + WalLayout.FRAME_SALT2_OFFSET) != salt2) {
            return "frame " + frame + " has salts of another WAL generation";
        }
        chain.update(frames, at, WalLayout.FRAME_CHECKSUMMED_HEADER_BYTES);
        chain.update(frames, at + WalLayout.FRAME_HEADER_SIZE, pageSize);
        if (!chain.matches(frames.getInt(at + WalLayout.FRAME_CHECKSUM1_OFFSET),
                frames.getInt(at + WalLayout.FRAME_CHECKSUM2_OFFSET))) {
            return "frame " + frame + " breaks the WAL checksum chain";
        }
        int pgno = frames.getInt(at + WalLayout.FRAME_PGNO_OFFSET);
        return pgno < 1 ? "frame " + frame + " has page number " + pgno : null;
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
        heldEnd = -1;
    }

    private void readFully(ByteBuffer target, long position) throws IOException {
        read(target, position, target.remaining());
    }

    /**
     * Reads the file from {@code position} into {@code target} until at least {@code minBytes}
     * came (more if the file has them and the buffer room); a WAL that ends first is interference.
     */
    private void read(ByteBuffer target, long position, int minBytes) throws IOException {
        int start = target.position();
        while (target.position() - start < minBytes) {
            long at = position + target.position() - start;
            if (wal.read(target, at) < 0) {
                throw new WalInterferenceException("the WAL ends at " + at + " before the reported frames");
            }
        }
    }
}
