package io.walship.cli;

import io.walship.format.ObjectKey;
import io.walship.internal.format.SegmentReader;
import io.walship.internal.format.SnapshotReader;
import io.walship.internal.restore.FetchedSegment;
import io.walship.internal.restore.Position;
import io.walship.restore.LogCatalog.LogObject;
import io.walship.restore.LogCatalog;
import io.walship.restore.Restore;
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
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What storage holds: by default a summary per kind of object (count, bytes, txid range, oldest
 * and newest); every object with {@code -v}; every object's header with {@code --headers}. Two
 * LISTs and one GET (the newest segment, for the latest txid) unless {@code --headers}.
 */
@Command(name = "ls", description = "Summarize snapshots and segments (count, bytes, txid range, times);"
        + " -v lists every object.")
final class LsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    StorageOption storage;

    @Option(names = {"-v", "--verbose"}, description = "List every object: txid range, size, time stored.")
    boolean verbose;

    @Option(names = "--headers",
            description = "With every object, read its header: transaction count, commit times, page counts"
                    + " (one GET per object).")
    boolean headers;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        try (Storage opened = storage.openExisting()) {
            LogCatalog catalog = LogCatalog.list(opened);
            Optional<Position> latest = Restore.latestPosition(opened, catalog);
            long latestTxid = latest.map(Position::txid).orElse(-1L);
            List<ObjectInfo> snapshots = List.copyOf(catalog.snapshots().values());
            out.printf("storage %s%n", storage);
            out.printf("%-10s %9s %14s %20s %20s  %-30s %s%n", "kind", "objects", "bytes", "first txid", "last txid",
                    "oldest", "newest");
            summary(out, "snapshots", snapshots, o -> ObjectKey.parseSnapshot(o.key()).orElseThrow(),
                    catalog.latestSnapshot().orElse(-1));
            for (int level = 0; level <= ObjectKey.LEVELS; level++) {
                List<LogObject> objects = catalog.level(level);
                if (level > 0 && objects.isEmpty()) {
                    continue;
                }
                long last = objects.isEmpty() ? -1 : lastTxid(catalog, objects.get(objects.size() - 1), latestTxid);
                summary(out, level == 0 ? "segments" : "level " + level,
                        objects.stream().map(LogObject::info).toList(),
                        o -> ObjectKey.parseLog(o.key()).orElseThrow().start(), last);
            }
            if (verbose || headers) {
                out.printf("%n%-10s %20s %20s %12s  %s%n", "type", "first txid", "last txid", "bytes", "stored");
                for (ObjectInfo info : snapshots) {
                    long txid = ObjectKey.parseSnapshot(info.key()).orElseThrow();
                    out.printf("%-10s %20d %20d %12d  %s%s%n", "snapshot", txid, txid, info.size(),
                            info.lastModified(), headers ? snapshotDetail(opened, info.key()) : "");
                }
                for (LogObject object : catalog.log().values()) {
                    long last = lastTxid(catalog, object, latestTxid);
                    out.printf("%-10s %20d %20s %12d  %s%s%n",
                            object.key().level() == 0 ? "segment" : "level " + object.key().level(),
                            object.key().start(), last < 0 ? "?" : Long.toString(last), object.size(),
                            object.info().lastModified(), headers ? segmentDetail(opened, object.storageKey()) : "");
                }
            }
            out.printf("%d snapshots, %d log objects, %d bytes%s%n", snapshots.size(), catalog.log().size(),
                    catalog.bytes(), latest.map(p -> ", latest txid " + p.txid() + ", earliest restorable txid "
                            + catalog.earliestSnapshot().getAsLong()).orElse(", no snapshot"));
        }
        return ExitCode.OK.code;
    }

    /**
     * Where a log object ends, from the listing: just before the next segment when one follows,
     * the latest txid for the newest object, -1 (shown as ?) when only its header could say
     * (the next object is a compacted one, whose first txid the listing does not give).
     */
    private static long lastTxid(LogCatalog catalog, LogObject object, long latestTxid) {
        LogObject next = catalog.after(object.key());
        if (next == null) {
            return latestTxid;
        }
        return next.key().level() == 0 ? next.key().start() - 1 : -1;
    }

    /** One line for a kind of object: count, bytes, txid range, oldest and newest store time. */
    private static void summary(PrintWriter out, String kind, List<ObjectInfo> objects,
                                Function<ObjectInfo, Long> firstTxid, long lastTxid) {
        if (objects.isEmpty()) {
            out.printf("%-10s %9d %14d %20s %20s  %-30s %s%n", kind, 0, 0, "-", "-", "-", "-");
            return;
        }
        Instant oldest = objects.stream().map(ObjectInfo::lastModified).min(Comparator.naturalOrder()).orElseThrow();
        Instant newest = objects.stream().map(ObjectInfo::lastModified).max(Comparator.naturalOrder()).orElseThrow();
        long first = objects.stream().mapToLong(firstTxid::apply).min().orElseThrow();
        out.printf("%-10s %9d %14d %20d %20s  %-30s %s%n", kind, objects.size(),
                objects.stream().mapToLong(ObjectInfo::size).sum(), first, lastTxid < 0 ? "?" : Long.toString(lastTxid),
                oldest, newest);
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
        }
    }

    private static String snapshotDetail(Storage storage, String key) throws IOException {
        try (InputStream in = storage.open(key).orElseThrow()) {
            SnapshotReader reader = SnapshotReader.open(key, in);
            return "  pages=" + reader.pageCount() + " pageSize=" + reader.pageSize() + " created="
                    + Instant.ofEpochMilli(reader.createdMillis());
        }
    }
}
