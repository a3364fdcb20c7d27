package io.walship.cli;

import io.walship.TxidRange;
import io.walship.WalshipException;
import io.walship.internal.log.FetchedSegment;
import io.walship.internal.log.LogCatalog.LogObject;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.LogLookup;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.Position;
import io.walship.internal.log.SegmentReader;
import io.walship.internal.log.SnapshotReader;
import io.walship.internal.log.StoredHistory.Span;
import io.walship.internal.log.StoredHistory;
import io.walship.storage.ObjectInfo;
import io.walship.storage.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What storage holds: by default a summary per kind of object (count, bytes, txid range, oldest
 * and newest) and the ranges of txids it can restore, holes included; every object with
 * {@code -v}; every object's transactions with {@code --headers}. Two LISTs and one small ranged
 * read per log object (its header: which txids it holds, so the restorable ranges are proven from
 * the objects, not guessed from the listing), plus the newest object; {@code --headers} reads
 * every object whole. Exits 3 when storage has a hole or a damaged object, 4 when it holds nothing.
 */
@Command(name = "ls", mixinStandardHelpOptions = true, description = "Summarize snapshots and log objects (count, bytes, txid range, times) and the"
        + " txids storage can restore, holes included; -v lists every object.")
final class LsCommand implements Callable<Integer>, StorageOption.WithStorage {
    @Spec
    CommandSpec spec;

    @Mixin
    StorageOption storage;

    @Override
    public StorageOption storage() {
        return storage;
    }

    @Option(names = {"-v", "--verbose"}, description = "List every object: txid range, size, time stored.")
    boolean verbose;

    @Option(names = "--headers",
            description = "With every object, read it whole: transaction count, commit times, page counts"
                    + " (one GET per object).")
    boolean headers;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        try (Storage opened = storage.openExisting()) {
            StoredHistory history = StoredHistory.read(opened);
            LogCatalog catalog = history.catalog();
            out.printf("storage %s%n", storage);
            if (catalog.size() == 0) {
                Optional<String> hint = storage.sharedRootHint();
                if (hint.isPresent()) {
                    out.printf("%s%n", hint.get());
                } else {
                    out.printf("empty: no walship object here (a primary stores its first snapshot when it opens)%n");
                }
                out.flush();
                return ExitCode.NOT_AVAILABLE.code;
            }
            Optional<Position> latest = catalog.snapshots().isEmpty() ? Optional.empty()
                    : LogLookup.latestPosition(opened, catalog);
            List<ObjectInfo> snapshots = List.copyOf(catalog.snapshots().values());
            out.printf("%-10s %9s %14s %20s %20s  %-30s %s%n", "kind", "objects", "bytes", "first txid", "last txid",
                    "oldest", "newest");
            summary(out, "snapshots", snapshots, o -> ObjectKey.parseSnapshot(o.key()).orElseThrow(),
                    o -> ObjectKey.parseSnapshot(o.key()).orElseThrow());
            for (int level = 0; level <= ObjectKey.LEVELS; level++) {
                List<LogObject> objects = catalog.level(level);
                if (level > 0 && objects.isEmpty()) {
                    continue;
                }
                summary(out, level == 0 ? "segments" : "level " + level,
                        objects.stream().map(LogObject::info).toList(),
                        o -> span(history, o).map(Span::first).orElse(-1L),
                        o -> span(history, o).map(Span::last).orElse(-1L));
            }
            if (verbose || headers) {
                out.printf("%n%-10s %20s %20s %12s  %s%n", "type", "first txid", "last txid", "bytes", "stored");
                for (ObjectInfo info : snapshots) {
                    long txid = ObjectKey.parseSnapshot(info.key()).orElseThrow();
                    out.printf("%-10s %20d %20d %12d  %s%s%n", "snapshot", txid, txid, info.size(),
                            info.lastModified(), headers ? snapshotDetail(opened, info.key()) : "");
                }
                for (LogObject object : catalog.log().values()) {
                    Optional<Span> span = history.span(object.key());
                    out.printf("%-10s %20s %20s %12d  %s%s%n",
                            object.key().level() == 0 ? "segment" : "level " + object.key().level(),
                            span.map(x -> Long.toString(x.first())).orElse("?"),
                            span.map(x -> Long.toString(x.last())).orElse("?"), object.size(),
                            object.info().lastModified(), headers ? segmentDetail(opened, object.storageKey())
                                    : history.damaged().containsKey(object.storageKey()) ? "  DAMAGED" : "");
                }
            }
            int problems = printRestorable(out, history);
            out.printf("%d snapshots, %d log objects, %d bytes%s%n", snapshots.size(), catalog.log().size(),
                    catalog.bytes(), latest.map(p -> ", latest txid " + p.txid() + ", earliest restorable txid "
                            + history.earliest()).orElse(", no snapshot"));
            out.flush();
            return problems > 0 ? ExitCode.BAD_DATA.code
                    : catalog.snapshots().isEmpty() ? ExitCode.NOT_AVAILABLE.code : ExitCode.OK.code;
        }
    }

    /**
     * Prints the restorable ranges, every hole and every damaged object; returns how many holes
     * and damaged objects there are. Shared with {@code status}.
     */
    static int printRestorable(PrintWriter out, StoredHistory history) {
        out.printf("restorable txids %s%n", history.restorable().isEmpty() ? "none (no snapshot)"
                : history.restorable().stream().map(TxidRange::toString).collect(Collectors.joining(", ")));
        for (TxidRange hole : history.holes()) {
            out.printf("HOLE txids %s cannot be restored: no snapshot and log reach them, although storage holds"
                    + " later txids (compaction deletes nothing meanwhile; see docs/GUARANTEES.md)%n", hole);
        }
        history.damaged().forEach((key, error) -> out.printf("DAMAGED %s: %s%n", key, error.getMessage()));
        return history.holes().size() + history.damaged().size();
    }

    private static Optional<Span> span(StoredHistory history, ObjectInfo info) {
        return ObjectKey.parseLog(info.key()).flatMap(history::span);
    }

    /** One line for a kind of object: count, bytes, txid range, oldest and newest store time. */
    private static void summary(PrintWriter out, String kind, List<ObjectInfo> objects,
                                Function<ObjectInfo, Long> firstTxid, Function<ObjectInfo, Long> lastTxid) {
        if (objects.isEmpty()) {
            out.printf("%-10s %9d %14d %20s %20s  %-30s %s%n", kind, 0, 0, "-", "-", "-", "-");
            return;
        }
        Instant oldest = objects.stream().map(ObjectInfo::lastModified).min(Comparator.naturalOrder()).orElseThrow();
        Instant newest = objects.stream().map(ObjectInfo::lastModified).max(Comparator.naturalOrder()).orElseThrow();
        long first = objects.stream().mapToLong(firstTxid::apply).filter(t -> t >= 0).min().orElse(-1);
        long last = objects.stream().mapToLong(lastTxid::apply).max().orElse(-1);
        out.printf("%-10s %9d %14d %20s %20s  %-30s %s%n", kind, objects.size(),
                objects.stream().mapToLong(ObjectInfo::size).sum(), first < 0 ? "?" : Long.toString(first),
                last < 0 ? "?" : Long.toString(last), oldest, newest);
    }

    private static String segmentDetail(Storage storage, String key) throws IOException {
        try (FetchedSegment fetched = FetchedSegment.fetch(storage, key, Path.of(System.getProperty("java.io.tmpdir")),
                FetchedSegment.DEFAULT_MEMORY_BYTES).orElseThrow(); SegmentReader segment = fetched.open()) {
            long firstMillis = -1;
            long lastMillis = -1;
            for (var txn = segment.nextTransaction(); txn != null; txn = segment.nextTransaction()) {
                firstMillis = firstMillis < 0 ? txn.commitMillis() : firstMillis;
                lastMillis = txn.commitMillis();
            }
            return "  txns=" + segment.transactionCount() + " raw=" + segment.rawBodyBytes() + " committed="
                    + Instant.ofEpochMilli(firstMillis) + ".." + Instant.ofEpochMilli(lastMillis);
        } catch (WalshipException e) {
            return "  DAMAGED " + e.getMessage();
        }
    }

    private static String snapshotDetail(Storage storage, String key) throws IOException {
        try (InputStream in = storage.open(key).orElseThrow()) {
            SnapshotReader reader = SnapshotReader.open(key, in);
            return "  pages=" + reader.pageCount() + " pageSize=" + reader.pageSize() + " created="
                    + Instant.ofEpochMilli(reader.createdMillis());
        } catch (WalshipException e) {
            return "  DAMAGED " + e.getMessage();
        }
    }
}
