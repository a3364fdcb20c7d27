package io.walship.internal.capture;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.function.LongConsumer;

/**
 * Finds the commits a WAL gained since it last looked, by reading frame headers: how a primary
 * without the WAL hook learns of its writer's commits (CaptureMode.WRITER).
 *
 * <p>What bounds a commit: a frame whose "database size after commit" is not zero, carrying the
 * salts of the WAL header. Frames past the last commit with the current salts are the spill of a
 * transaction that rolled back, or of one being written by another process: they are looked at
 * again next time and count only once a commit frame ends them. The cumulative checksum is not
 * computed here: {@link WalReader} checks the chain when it captures the frames, so a frame that
 * is not what SQLite committed is met there, as WAL interference, exactly as with the hook.
 *
 * <p>When the header's salts change without {@link #folded} (another process checkpointed and
 * restarted the WAL), the new generation's commits are reported from its first frame; capturing
 * them finds a generation walship did not start, the interference path (ADR 0002). Not
 * thread-safe: the primary calls it with its write gate held.
 */
public final class WalCommitFinder {
    private final FileChannel wal;
    private final int pageSize;
    private final ByteBuffer header = ByteBuffer.allocate(WalLayout.HEADER_SIZE);
    private final ByteBuffer frameHeader = ByteBuffer.allocate(WalLayout.FRAME_HEADER_SIZE);
    /** Salts of the generation seen last; valid while generationKnown. */
    private boolean generationKnown;
    private int salt1;
    private int salt2;
    /** Walship folded the WAL ({@link #folded}) and no commit followed yet: the next generation is walship's own. */
    private boolean restartedByWalship;
    /** Frames of the known generation that walship folded: commits after them only are new. */
    private long foldedFrames;

    public WalCommitFinder(FileChannel wal, int pageSize) throws IOException {
        this.wal = wal;
        this.pageSize = pageSize;
        // no valid WAL at open: the first generation is started by the primary's writer
        restartedByWalship = !readHeader();
    }

    /**
     * Reports, in order, the frame count at each commit frame after the first {@code from}
     * frames (the number the WAL hook would have passed for it); nothing while the WAL has no
     * valid header. When the WAL was emptied or restarted since the last look by anyone but
     * walship, {@code from} counts frames of a generation that is gone: with
     * {@code fromStartOfOthers} the new generation's commits are reported from its first frame,
     * else nothing is reported and false returned (the caller's capture meets it as interference).
     * A generation started after walship's last checkpoint is walship's own only when walship
     * committed since that checkpoint ({@code committedSinceCheckpoint}: {@code from} then counts
     * its frames) or counts nothing yet ({@code from} 0, after a fold).
     */
    public boolean findCommits(long from, boolean committedSinceCheckpoint, boolean fromStartOfOthers,
                               LongConsumer commit) throws IOException {
        boolean wasKnown = generationKnown;
        int knownSalt1 = salt1;
        int knownSalt2 = salt2;
        if (!readHeader()) {
            if (wasKnown) {
                restartedByWalship = false; // emptied, and not by walship
            }
            return true;
        }
        boolean sameGeneration = wasKnown && salt1 == knownSalt1 && salt2 == knownSalt2;
        // after walship's fold: its own before its next commit (from 0), or once that commit is in it
        boolean walshipsOwn = sameGeneration || restartedByWalship && (committedSinceCheckpoint || from == 0);
        if (!walshipsOwn && !fromStartOfOthers) {
            generationKnown = wasKnown; // look again next time, from the same knowledge
            salt1 = knownSalt1;
            salt2 = knownSalt2;
            return false;
        }
        // in the folded generation, commits follow its folded frames; in walship's new one, the
        // caller counted its frames; in another's, all of them are unreported
        long first = sameGeneration ? Math.max(from, foldedFrames) : walshipsOwn ? from : 0;
        if (!sameGeneration || from > foldedFrames) {
            restartedByWalship = false; // a new generation, or a commit after the fold: a restart now is not walship's
            if (!sameGeneration) {
                foldedFrames = 0;
            }
        }
        long size = wal.size();
        long frameBytes = WalLayout.FRAME_HEADER_SIZE + (long) pageSize;
        for (long frame = first; WalLayout.frameOffset(frame, pageSize) + frameBytes <= size; frame++) {
            frameHeader.clear();
            readFully(frameHeader, WalLayout.frameOffset(frame, pageSize));
            if (frameHeader.getInt(WalLayout.FRAME_SALT1_OFFSET) != salt1
                    || frameHeader.getInt(WalLayout.FRAME_SALT2_OFFSET) != salt2) {
                return true; // a frame of an older generation: the valid WAL ends before it
            }
            if (frameHeader.getInt(WalLayout.FRAME_DB_SIZE_OFFSET) != 0) {
                restartedByWalship = false;
                commit.accept(frame + 1);
            }
        }
        return true;
    }

    /**
     * Walship folded the first {@code frames} frames of the WAL's generation into the database
     * ({@code emptied}: and truncated the WAL). Commits that follow them in this generation are
     * new; a new generation is walship's own, its frames counted by the caller from 0.
     */
    public void folded(long frames, boolean emptied) throws IOException {
        restartedByWalship = true;
        if (emptied || !readHeader()) {
            generationKnown = false;
            foldedFrames = 0;
        } else {
            foldedFrames = frames;
        }
    }

    /** Reads the header's salts; false (and the generation unknown) when the WAL has no valid header. */
    private boolean readHeader() throws IOException {
        if (wal.size() < WalLayout.HEADER_SIZE) {
            generationKnown = false;
            return false;
        }
        header.clear();
        readFully(header, 0);
        int magic = header.getInt(WalLayout.HEADER_MAGIC_OFFSET);
        if (magic != WalLayout.MAGIC_LITTLE_ENDIAN && magic != WalLayout.MAGIC_BIG_ENDIAN) {
            generationKnown = false;
            return false;
        }
        salt1 = header.getInt(WalLayout.HEADER_SALT1_OFFSET);
        salt2 = header.getInt(WalLayout.HEADER_SALT2_OFFSET);
        generationKnown = true;
        return true;
    }

    private void readFully(ByteBuffer target, long position) throws IOException {
        while (target.hasRemaining()) {
            if (wal.read(target, position + target.position()) < 0) {
                throw new IOException("the WAL ends at " + (position + target.position()) + " while being read");
            }
        }
    }
}
