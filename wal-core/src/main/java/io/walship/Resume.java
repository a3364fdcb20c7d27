package io.walship;

import io.walship.internal.FileDurability;
import io.walship.internal.capture.WalReader;
import io.walship.internal.capture.WalTransaction;
import io.walship.internal.log.DatabaseChecksum;
import io.walship.internal.log.DatabaseImage;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.Position;
import io.walship.internal.log.SegmentReader;
import io.walship.internal.log.SegmentSpill;
import io.walship.internal.log.SqliteHeader;
import io.walship.internal.log.StoredLog;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.Storage;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a primary takes up its local database file when storage already holds a history: finds
 * out whether the file and its WAL continue that history, lag behind it or left it, and brings
 * the file to a state capture can continue from. Runs inside {@link Primary#open}, with the
 * file owned and before any SQLite connection of this process has it open.
 */
final class Resume {
    /*
     * What the pieces say. The database file alone holds a stored state: walship folds the WAL
     * into it only up to stored transactions (LocalWal). The checkpoint record names that state
     * and vouches for it while the file's fingerprint is unchanged and the record is clean
     * (CheckpointRecord). The WAL holds the commits after it, in order, one txid each: the first
     * commit in it is the record's txid + 1. SQLite keeps every commit it made in the WAL through
     * a process crash; a power failure may cut its tail (synchronous=NORMAL). Since walship folds
     * with SQLite's RESTART (ADR 0034), a WAL of the generation the record names still starts
     * with the frames that fold copied into the file: while the record vouches for the file and
     * those frames end in a commit, only the commits after them are new. Otherwise such a WAL
     * (a copy from before the fold, a record that is not clean) is folded again and the file read.
     *
     * 1. The file's state. Trusted from the record when it may be; otherwise the file is read
     *    whole (a crash cut a checkpoint short, or someone touched the file) and the state is the
     *    first of: (a) the record's state, the file differing from it only in pages the WAL holds
     *    (a checkpoint that copied part of the WAL); (b) a stored state with the file's checksum
     *    (a checkpoint or catch-up finished but its record was not written); (c) without a record,
     *    storage's newest state reached through a prefix of the WAL. None: the file left storage's
     *    history, unless (d) a catch-up was cut short, which is finished by writing the stored log
     *    over the file again (full page images; the end state is checked).
     * 2. The WAL on top. Its commits are txids base+1, base+2, ...; the state after the one with
     *    storage's newest txid must have storage's checksum (one comparison, no extra request):
     *    then the commits after it were never stored and are shipped with those txids. If the
     *    WAL ends before storage's newest txid, the file is behind: the WAL is folded in (all of
     *    it is stored) and storage's missing transactions are written into the file, each checked
     *    against the checksum the primary recorded, as a restore does.
     * 3. Anything else - storage holds another history, the file is ahead of storage, the file
     *    was changed while closed, the -wal was lost while a checkpoint was under way - moves the
     *    file and all that belongs to it aside and rebuilds it from storage. The copy keeps every
     *    row it had.
     *
     * [1] docs/adr/0006-restart-resumes-from-the-local-file.md
     */
    private static final Logger log = LoggerFactory.getLogger(Resume.class);

    /**
     * What open continues from: the file alone holds {@code fileTxid} with page hashes
     * {@code filePages}; the WAL starts with {@code walFoldedFrames} frames the file already
     * holds, then holds commits ending at the given frame counts (txids {@code fileTxid + 1 ..});
     * {@code record} describes the file and is open for updates.
     */
    record Resumed(long fileTxid, DatabaseChecksum filePages, long walFoldedFrames, List<Long> walCommitFrames,
                   CheckpointRecord record,
                   OpenOutcome.Kind kind, long walTransactions, long appliedTransactions, long pagesWritten,
                   boolean fileRead, String reason, Optional<Path> movedAside) {
    }

    /** Told the state after each of the WAL's commits; returns false to stop the replay. */
    private interface AfterCommit {
        boolean after(int commits, DatabaseChecksum state) throws IOException;
    }

    /**
     * A candidate for the file's own state; {@code recorded} is the record's header when the
     * state is the record's (whose hashes on disk are then intact), else null.
     */
    private record Base(long txid, DatabaseChecksum pages, CheckpointRecord.Header recorded) {
    }

    /** What writing the stored log into the file did, and how many WAL transactions were folded first. */
    private record Written(DatabaseChecksum pages, long walTransactions, long transactions, long pagesWritten) {
    }

    private final Storage storage;
    private final Path db;
    private final Position latest;
    private final LogCatalog catalog;
    private final PrimaryOptions options;
    private boolean fileRead;
    /** Frames at the WAL's start that the last checkpoint folded (readWal): its commits follow them. */
    private long walFoldedFrames;

    private Resume(Storage storage, Path db, Position latest, LogCatalog catalog, PrimaryOptions options) {
        this.storage = storage;
        this.db = db;
        this.latest = latest;
        this.catalog = catalog;
        this.options = options;
    }

    /**
     * @param latest   storage's newest position
     * @param catalog  what storage holds
     */
    static Resumed run(Storage storage, Path db, Position latest, LogCatalog catalog, PrimaryOptions options)
            throws IOException, SQLException {
        return new Resume(storage, db, latest, catalog, options).run();
    }

    private Resumed run() throws IOException, SQLException {
        if (!Files.exists(db)) {
            return rebuild("no local database file");
        }
        int pageSize;
        try (FileChannel channel = FileChannel.open(db, StandardOpenOption.READ)) {
            pageSize = SqliteHeader.pageSize(channel);
        } catch (IOException e) {
            return rebuild("the local file is not a SQLite database: " + e.getMessage());
        }
        if (pageSize != latest.pageSize()) {
            return rebuild("the local file's page size " + pageSize + " differs from storage's "
                    + latest.pageSize());
        }
        CheckpointRecord.Contents record = readRecord(pageSize);
        List<Long> wal = readWal(pageSize, record);
        if (wal == null) { // a stale WAL was folded: what the file holds now must be found by reading it
            record = readRecord(pageSize);
            wal = List.of();
        }
        boolean trusted = record != null && vouchesForFile(record);
        List<Base> candidates = new ArrayList<>();
        DatabaseChecksum file = null;
        if (trusted) {
            candidates.add(new Base(record.header().txid(), record.pages(), record.header()));
        } else {
            file = readWhole(pageSize);
            fileRead = true;
            candidates.addAll(candidatesFor(file, record, wal));
        }
        String mismatch = record == null
                ? "there is no checkpoint record and the file matches no stored state"
                : "the file changed while the primary was closed (another process wrote or folded it, or its -wal"
                        + " was lost while a checkpoint was under way)";
        for (Base base : candidates) {
            DatabaseChecksum state = base.pages().copy();
            String problem = checkAgainstStorage(base, wal, state);
            if (problem == null) {
                return base.txid() + wal.size() >= latest.txid() ? resumed(base, wal) : catchUp(base, wal, state);
            }
            mismatch = problem;
        }
        if (candidates.isEmpty() && record != null && record.header().applyingLastTxid() != 0 && wal.isEmpty()) {
            Resumed finished = finishCatchUp(record.header().txid(), file);
            if (finished != null) {
                return finished;
            }
            mismatch = "a catch-up from txid " + record.header().txid() + " was cut short and writing the stored log"
                    + " again does not give storage's state";
        }
        return rebuild(mismatch);
    }

    // ---------------------------------------------------------------- reading what is there

    private CheckpointRecord.Contents readRecord(int pageSize) throws IOException {
        try {
            Optional<CheckpointRecord.Contents> contents = CheckpointRecord.read(db);
            if (contents.isPresent() && contents.get().header().pageSize() != pageSize) {
                log.warn("checkpoint record ignored, it is for another page size db={} pageSize={} recorded={}",
                        db.getFileName(), pageSize, contents.get().header().pageSize());
                return null;
            }
            return contents.orElse(null);
        } catch (WalshipException e) {
            log.warn("checkpoint record unreadable, the database file is read instead db={} error={}",
                    db.getFileName(), e.getMessage());
            return null;
        }
    }

    /**
     * The WAL's commits as SQLite's recovery will find them, with the pages each wrote. A WAL of
     * the generation the record says was folded adds nothing the file lacks (a copy restored from
     * before the checkpoint, or a truncation a power cut undid): it is folded again, harmlessly
     * where the file already holds it, with the record marked DIRTY first, and null is returned.
     */
    private List<Long> readWal(int pageSize, CheckpointRecord.Contents record) throws IOException, SQLException {
        WalReader.Contents contents;
        try (FileChannel channel = FileChannel.open(walPath(), StandardOpenOption.READ)) {
            contents = WalReader.scan(channel, pageSize);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<Long> commits = contents.commitFrames();
        if (record == null || contents.generation() == null || !contents.generation().equals(record.header().folded())) {
            return commits;
        }
        long folded = record.header().foldedFrames();
        int lastFolded = folded == 0 ? -1 : commits.indexOf(folded); // the commit the folded frames end with
        if (folded >= 0 && (folded == 0 || lastFolded >= 0) && vouchesForFile(record)) {
            // walship's checkpoint left these frames in place (SQLite's RESTART) and the file holds
            // them: the commits after them are new; the frames stay, identical to the file's pages
            walFoldedFrames = folded;
            return commits.subList(lastFolded + 1, commits.size());
        }
        log.warn("wal holds a generation the last checkpoint folded, folding it again db={} frames={}",
                db.getFileName(), commits.isEmpty() ? 0 : commits.get(commits.size() - 1));
        try (CheckpointRecord stale = CheckpointRecord.open(db, record.header())) {
            stale.markDirty();
        }
        LocalFile.fold(db);
        return null;
    }

    /** The record may be trusted for what the file holds: clean, its hashes intact, the file untouched since. */
    private boolean vouchesForFile(CheckpointRecord.Contents record) throws IOException {
        return record.intact() && !record.header().dirty()
                && record.header().fingerprint().matches(CheckpointRecord.FileFingerprint.of(db));
    }

    private Path walPath() {
        return FileDurability.sibling(db, "-wal");
    }

    /**
     * Applies the WAL's first {@code commits} commits to {@code state} one by one, telling
     * {@code after} the state after each. Reads the WAL again; holds one chunk of it at a time.
     */
    private void replay(DatabaseChecksum state, List<Long> wal, AfterCommit after) throws IOException {
        if (wal.isEmpty()) {
            return;
        }
        int pageSize = state.pageSize();
        try (FileChannel channel = FileChannel.open(walPath(), StandardOpenOption.READ)) {
            WalReader reader = new WalReader(channel, pageSize);
            reader.skipFolded(walFoldedFrames);
            for (int k = 0; k < wal.size(); k++) {
                WalTransaction txn = reader.readTransaction(wal.get(k));
                state.resize(txn.databasePages());
                txn.forEachPage((pgno, walOffset, buffer, offset) ->
                        state.setPageHash(pgno, DatabaseChecksum.pageHash(pgno, buffer, offset, pageSize)));
                if (!after.after(k + 1, state)) {
                    return;
                }
            }
        }
    }

    private DatabaseChecksum readWhole(int pageSize) throws IOException {
        try (FileChannel channel = FileChannel.open(db, StandardOpenOption.READ)) {
            return DatabaseChecksum.of(channel, pageSize);
        }
    }

    // ---------------------------------------------------------------- what state the file holds

    /** Steps 1a-1c of the essay above, for a file that was read whole. */
    private List<Base> candidatesFor(DatabaseChecksum file, CheckpointRecord.Contents record, List<Long> wal)
            throws IOException {
        List<Base> candidates = new ArrayList<>();
        if (record != null && record.intact() && sameOutsideWal(file, record.pages(), wal)) {
            candidates.add(new Base(record.header().txid(), record.pages(), record.header()));
        }
        long from = record != null ? record.header().txid() : latest.txid();
        if (from <= latest.txid()) {
            try (StoredLog stored = StoredLog.after(storage, catalog, from, latest, SegmentSpill.besideDatabase(db))) {
                List<Long> matches = new ArrayList<>();
                if (stored.checksumAtStart() == file.value()) {
                    matches.add(from);
                }
                for (SegmentReader.TransactionHeader txn = stored.next(); txn != null; txn = stored.next()) {
                    if (stored.readPages((pgno, image) -> { }) == file.value()) {
                        matches.add(0, txn.txid()); // newest first: least to catch up
                    }
                }
                matches.forEach(txid -> candidates.add(new Base(txid, file, null)));
            } catch (TxidNotAvailableException | BadObjectException e) {
                rethrowUnlessGap(e);
                log.warn("stored log after the checkpoint record is not complete db={} txid={} error={}",
                        db.getFileName(), from, e.getMessage());
            }
        }
        if (record == null) {
            replay(file.copy(), wal, (commits, state) -> {
                if (state.value() == latest.checksum() && latest.txid() >= commits) {
                    candidates.add(new Base(latest.txid() - commits, file, null));
                }
                return true;
            });
        }
        return candidates;
    }

    /** The file equals the record's state except in pages the WAL's frames overwrite anyway. */
    private boolean sameOutsideWal(DatabaseChecksum file, DatabaseChecksum recorded, List<Long> wal)
            throws IOException {
        BitSet inWal = new BitSet();
        try (FileChannel channel = FileChannel.open(walPath(), StandardOpenOption.READ)) {
            WalReader reader = new WalReader(channel, file.pageSize());
            for (long frames : wal) {
                reader.readTransaction(frames).forEachPage((pgno, walOffset, buffer, offset) -> inWal.set(pgno));
            }
        } catch (NoSuchFileException e) {
            // no WAL: the file must equal the record's state everywhere
        }
        int pages = Math.max(file.pageCount(), recorded.pageCount());
        for (int pgno = 1; pgno <= pages; pgno++) {
            if (inWal.get(pgno)) {
                continue;
            }
            if (pgno > file.pageCount() || pgno > recorded.pageCount()
                    || file.pageHash(pgno) != recorded.pageHash(pgno)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Step 2: applies the WAL's commits to {@code state} (a copy of the base) and checks the state
     * at storage's newest txid against storage's checksum; returns what is wrong, or null.
     */
    private String checkAgainstStorage(Base base, List<Long> wal, DatabaseChecksum state) throws IOException {
        if (base.txid() > latest.txid()) {
            return "the file is at txid " + base.txid() + " but storage ends at txid " + latest.txid()
                    + " (storage lost transactions, or belongs to another database)";
        }
        String[] problem = new String[1];
        AfterCommit check = (commits, after) -> {
            if (base.txid() + commits == latest.txid() && after.value() != latest.checksum()) {
                problem[0] = "storage holds another history: the local database at txid " + latest.txid()
                        + " has checksum " + Long.toHexString(after.value()) + ", storage recorded "
                        + Long.toHexString(latest.checksum());
            }
            return base.txid() + commits < latest.txid();
        };
        if (check.after(0, state)) {
            replay(state, wal, check);
        }
        return problem[0];
    }

    // ---------------------------------------------------------------- bringing the file forward

    private Resumed resumed(Base base, List<Long> wal) throws IOException {
        // a state found by reading the file gets a record, so the next open need not read it again
        CheckpointRecord record = base.recorded() != null
                ? CheckpointRecord.open(db, base.recorded())
                : CheckpointRecord.create(db, base.txid(), base.pages(), 0);
        return new Resumed(base.txid(), base.pages(), walFoldedFrames, wal, record, OpenOutcome.Kind.RESUMED,
                wal.size(), 0, 0,
                fileRead, "", Optional.empty());
    }

    /**
     * The WAL ends before storage's newest txid: folds the WAL (every commit in it is stored)
     * and writes the missing stored transactions into the file, each checked. The record says
     * DIRTY meanwhile, naming the txid from which writing the stored log again finishes the job.
     */
    private Resumed catchUp(Base base, List<Long> wal, DatabaseChecksum stateAfterWal)
            throws IOException, SQLException {
        long from = base.txid() + wal.size();
        try (StoredLog stored = StoredLog.after(storage, catalog, from, latest, SegmentSpill.besideDatabase(db))) {
            if (stored.checksumAtStart() != stateAfterWal.value()) {
                return rebuild("storage holds another history: the local database at txid " + from
                        + " has checksum " + Long.toHexString(stateAfterWal.value()) + ", storage recorded "
                        + Long.toHexString(stored.checksumAtStart()));
            }
            CheckpointRecord.create(db, base.txid(), base.pages(), latest.txid()).close();
            if (!wal.isEmpty() || walFoldedFrames > 0) {
                // folded frames too: left in the WAL, SQLite would read their older images over the pages written now
                LocalFile.fold(db);
            }
            return caughtUp(writeStored(stored, from, stateAfterWal, wal.size(), true));
        }
    }

    /** Step 1d: a catch-up from {@code from} was cut short; writes the stored log over the file again. */
    private Resumed finishCatchUp(long from, DatabaseChecksum file) throws IOException {
        try (StoredLog stored = StoredLog.after(storage, catalog, from, latest, SegmentSpill.besideDatabase(db))) {
            Written written = writeStored(stored, from, file, 0, false);
            return written.pages().value() == latest.checksum() ? caughtUp(written) : null;
        } catch (TxidNotAvailableException | BadObjectException e) {
            rethrowUnlessGap(e);
            return null;
        }
    }

    private Resumed caughtUp(Written written) throws IOException {
        CheckpointRecord record = CheckpointRecord.create(db, latest.txid(), written.pages(), 0);
        return new Resumed(latest.txid(), written.pages(), 0, List.of(), record, OpenOutcome.Kind.CAUGHT_UP,
                written.walTransactions(), written.transactions(), written.pagesWritten(), fileRead, "",
                Optional.empty());
    }

    /** Writes every transaction of {@code stored} into the file, whose pages are {@code pages} at {@code from}. */
    private Written writeStored(StoredLog stored, long from, DatabaseChecksum pages, long walTransactions,
                                boolean verifyEach) throws IOException {
        long transactions = 0;
        try (DatabaseImage image = DatabaseImage.open(db, pages.copy(), from)) {
            for (SegmentReader.TransactionHeader txn = stored.next(); txn != null; txn = stored.next()) {
                stored.applyTo(image, txn, verifyEach);
                transactions++;
            }
            image.finish();
            return new Written(image.pages(), walTransactions, transactions, image.pagesWritten());
        }
    }

    /**
     * Moves the file and what belongs to it aside (when {@code diverged}, or leftovers of a
     * missing file lie around) and restores storage's newest state in its place.
     */
    private Resumed rebuild(String reason) throws IOException {
        Optional<Path> aside = Optional.empty();
        if (LocalFile.anyExists(db)) {
            aside = LocalFile.moveAside(db, options.clock().millis(), options.keepDivergedCopies());
            log.warn("local database left storage's history, moved aside db={} aside={} reason={} storageTxid={}"
                            + " keptCopies={} (the copy keeps every row it had; delete it once it is no longer needed)",
                    db.getFileName(), aside.map(Path::toString).orElse("deleted"), reason, latest.txid(),
                    options.keepDivergedCopies());
        }
        RestoreResult restored = Restore.run(storage, db, RestoreTarget.latest());
        if (restored.txid() != latest.txid()) {
            throw BadObjectException.txidGap(latest.key(), restored.txid() + 1, latest.txid());
        }
        DatabaseChecksum pages = readWhole(restored.pageSize());
        CheckpointRecord record = CheckpointRecord.create(db, latest.txid(), pages, 0);
        return new Resumed(latest.txid(), pages, 0, List.of(), record, OpenOutcome.Kind.REBUILT, 0, 0,
                pages.pageCount(), fileRead, reason, aside);
    }

    /** A log that stops short (missing or gapped) is an answer here; damaged or foreign objects are not. */
    private static void rethrowUnlessGap(WalshipException e) {
        if (e instanceof BadObjectException bad && bad.kind() != BadObjectException.Kind.TXID_GAP) {
            throw bad;
        }
    }

}
