package io.walship.internal.log;

import io.walship.BadObjectException;
import io.walship.internal.log.LogCatalog.LogObject;
import io.walship.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Walks the log after a position, object by object, along a chain planned from a listing, and
 * asks storage directly where the listing has a gap or ends: a listing can miss an object that
 * exists (a directory read racing a writer, an eventually consistent store) and still show later
 * ones, so a planned object that starts past the next txid is not yet a gap. The keys that can
 * hold the next txid follow from it by arithmetic ({@link LogLookup}); only when none does is
 * there truly nothing, which the caller reports. Not thread-safe.
 */
public final class LogCursor {
    private final Storage storage;
    private final List<LogObject> planned;
    private final Path spillDirectory;
    private int next;

    /** @param planned the objects a listing chains after the starting position, in order */
    public LogCursor(Storage storage, List<LogObject> planned, Path spillDirectory) {
        this.storage = storage;
        this.planned = planned;
        this.spillDirectory = spillDirectory;
    }

    /**
     * The object holding {@code txid + 1}, fetched and set to start there; empty when storage holds
     * nothing after {@code txid} (also after asking for the keys that could). Planned objects that
     * end at or before {@code txid} are passed over. Close what it returns.
     *
     * @throws BadObjectException TXID_GAP: a planned object lies past {@code txid + 1} and nothing holds what is between
     */
    public Optional<FetchedSegment> after(long txid) throws IOException {
        while (next < planned.size()) {
            Optional<FetchedSegment> fetched = FetchedSegment.fetch(storage, planned.get(next).storageKey(),
                    spillDirectory, FetchedSegment.DEFAULT_MEMORY_BYTES);
            if (fetched.isEmpty()) {
                next++; // deleted since the listing: what it held is in a compacted object, asked for below
                continue;
            }
            long first;
            long last;
            try {
                first = fetched.get().header().firstTxid();
                last = fetched.get().header().lastTxid();
            } catch (IOException | RuntimeException e) {
                fetched.get().close();
                throw e;
            }
            if (last <= txid) {
                fetched.get().close();
                next++; // behind: what came in by asking directly holds it
                continue;
            }
            if (first <= txid + 1) {
                next++;
                return Optional.of(fetched.get().startAfter(txid));
            }
            fetched.get().close(); // starts past txid + 1: the listing missed what lies between, or a hole
            Optional<FetchedSegment> asked = LogLookup.fetch(storage, txid + 1, true, spillDirectory,
                    FetchedSegment.DEFAULT_MEMORY_BYTES);
            if (asked.isEmpty()) {
                throw BadObjectException.txidGap(planned.get(next).storageKey(), txid + 1, first);
            }
            return asked;
        }
        return LogLookup.fetch(storage, txid + 1, true, spillDirectory, FetchedSegment.DEFAULT_MEMORY_BYTES);
    }
}
