package io.walship.cli;

import io.walship.format.ObjectKey;
import io.walship.format.SegmentReader;
import io.walship.restore.FetchedSegment;
import io.walship.format.SnapshotReader;
import io.walship.storage.ObjectInfo;
import io.walship.storage.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "ls", description = "List snapshots and segments: txid ranges, times and sizes.")
final class LsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    StorageOption storage;

    @Option(names = {"-v", "--verbose"},
            description = "Read each object's header: last txid, transaction count, commit times, page counts.")
    boolean verbose;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        try (Storage opened = storage.open()) {
            List<ObjectInfo> snapshots = opened.list(ObjectKey.SNAPSHOT_PREFIX);
            List<ObjectInfo> segments = opened.list(ObjectKey.LOG_PREFIX);
            out.printf("storage %s%n", storage);
            out.printf("%-10s %20s %20s %12s  %s%n", "type", "first txid", "last txid", "bytes", "stored");
            long total = 0;
            for (ObjectInfo info : snapshots) {
                Optional<Long> txid = ObjectKey.parseSnapshot(info.key());
                if (txid.isEmpty()) {
                    continue;
                }
                out.printf("%-10s %20d %20d %12d  %s%s%n", "snapshot", txid.get(), txid.get(), info.size(),
                        info.lastModified(), verbose ? snapshotDetail(opened, info.key()) : "");
                total += info.size();
            }
            long latest = -1;
            for (int i = 0; i < segments.size(); i++) {
                ObjectInfo info = segments.get(i);
                Optional<Long> first = ObjectKey.parseSegment(info.key());
                if (first.isEmpty()) {
                    continue;
                }
                String detail = "";
                long last;
                if (verbose) {
                    try (FetchedSegment fetched = FetchedSegment.fetch(opened, info.key(),
                            Path.of(System.getProperty("java.io.tmpdir")), FetchedSegment.DEFAULT_MEMORY_BYTES)
                            .orElseThrow(); SegmentReader segment = fetched.open()) {
                        last = segment.lastTxid();
                        long firstMillis = -1;
                        long lastMillis = -1;
                        for (var txn = segment.nextTransaction(); txn != null; txn = segment.nextTransaction()) {
                            firstMillis = firstMillis < 0 ? txn.commitMillis() : firstMillis;
                            lastMillis = txn.commitMillis();
                        }
                        detail = "  txns=" + segment.transactionCount() + " raw=" + segment.rawBodyBytes()
                                + " committed=" + Instant.ofEpochMilli(firstMillis) + ".."
                                + Instant.ofEpochMilli(lastMillis);
                    }
                } else {
                    Optional<Long> next = i + 1 < segments.size()
                            ? ObjectKey.parseSegment(segments.get(i + 1).key()) : Optional.empty();
                    last = next.map(n -> n - 1).orElse(-1L);
                }
                out.printf("%-10s %20d %20s %12d  %s%s%n", "segment", first.get(), last < 0 ? "?" : Long.toString(last),
                        info.size(), info.lastModified(), detail);
                total += info.size();
                latest = Math.max(latest, last);
            }
            out.printf("%d snapshots, %d segments, %d bytes%s%n", snapshots.size(), segments.size(), total,
                    verbose && latest >= 0 ? ", latest txid " + latest : "");
        }
        return ExitCode.OK.code;
    }

    private static String snapshotDetail(Storage storage, String key) throws IOException {
        try (InputStream in = storage.open(key).orElseThrow()) {
            SnapshotReader reader = SnapshotReader.open(key, in);
            return "  pages=" + reader.pageCount() + " pageSize=" + reader.pageSize() + " created="
                    + Instant.ofEpochMilli(reader.createdMillis());
        }
    }
}
