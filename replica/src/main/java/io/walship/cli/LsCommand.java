package io.walship.cli;

import io.walship.format.ObjectKey;
import io.walship.format.SegmentReader;
import io.walship.format.SnapshotReader;
import io.walship.restore.FetchedSegment;
import io.walship.restore.Position;
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
        try (Storage opened = storage.open()) {
            List<ObjectInfo> snapshots = opened.list(ObjectKey.SNAPSHOT_PREFIX).stream()
                    .filter(o -> ObjectKey.parseSnapshot(o.key()).isPresent()).toList();
            List<ObjectInfo> segments = opened.list(ObjectKey.LOG_PREFIX).stream()
                    .filter(o -> ObjectKey.parseSegment(o.key()).isPresent()).toList();
            Optional<Position> latest = Restore.latestPosition(opened, snapshots, segments);
            out.printf("storage %s%n", storage);
            out.printf("%-10s %9s %14s %20s %20s  %-30s %s%n", "kind", "objects", "bytes", "first txid", "last txid",
                    "oldest", "newest");
            summary(out, "snapshots", snapshots, o -> ObjectKey.parseSnapshot(o.key()).orElseThrow(),
                    snapshots.stream().mapToLong(o -> ObjectKey.parseSnapshot(o.key()).orElseThrow()).max()
                            .orElse(-1));
            summary(out, "segments", segments, o -> ObjectKey.parseSegment(o.key()).orElseThrow(),
                    latest.map(Position::txid).orElse(-1L));
            if (verbose || headers) {
                out.printf("%n%-10s %20s %20s %12s  %s%n", "type", "first txid", "last txid", "bytes", "stored");
                for (ObjectInfo info : snapshots) {
                    long txid = ObjectKey.parseSnapshot(info.key()).orElseThrow();
                    out.printf("%-10s %20d %20d %12d  %s%s%n", "snapshot", txid, txid, info.size(),
                            info.lastModified(), headers ? snapshotDetail(opened, info.key()) : "");
                }
                for (int i = 0; i < segments.size(); i++) {
                    ObjectInfo info = segments.get(i);
                    long last = i + 1 < segments.size()
                            ? ObjectKey.parseSegment(segments.get(i + 1).key()).orElseThrow() - 1
                            : latest.map(Position::txid).orElse(-1L);
                    out.printf("%-10s %20d %20s %12d  %s%s%n", "segment", ObjectKey.parseSegment(info.key()).orElseThrow(),
                            last < 0 ? "?" : Long.toString(last), info.size(), info.lastModified(),
                            headers ? segmentDetail(opened, info.key()) : "");
                }
            }
            long total = snapshots.stream().mapToLong(ObjectInfo::size).sum()
                    + segments.stream().mapToLong(ObjectInfo::size).sum();
            out.printf("%d snapshots, %d segments, %d bytes%s%n", snapshots.size(), segments.size(), total,
                    latest.map(p -> ", latest txid " + p.txid()).orElse(", no snapshot"));
        }
        return ExitCode.OK.code;
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
