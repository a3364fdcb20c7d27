package io.walship.cli;

import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.LogLookup;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.Position;
import io.walship.internal.log.StoredHistory;
import io.walship.storage.ObjectInfo;
import io.walship.storage.Storage;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What storage says about the database it holds, for an operator or a monitoring check: the
 * latest txid and when it was committed, the newest object and the newest snapshot with their
 * ages, the txids it can restore (holes included) and object counts. Two LISTs, one small ranged
 * read per log object (its header), and one GET of the newest object. Exits 3 when storage has a
 * hole or a damaged object, 4 when it holds no snapshot, 7 with {@code --max-age} when stale.
 */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Show the latest txid, its age, the newest snapshot, the restorable txids"
        + " and object counts; exit 3 on a hole or damage; with --max-age, exit 7 when nothing newer was stored.")
final class StatusCommand implements Callable<Integer>, StorageOption.WithStorage {
    @Spec
    CommandSpec spec;

    @Mixin
    StorageOption storage;

    @Override
    public StorageOption storage() {
        return storage;
    }

    @Option(names = "--max-age", paramLabel = "DURATION",
            description = "Exit 7 (stale) when the newest object in storage is older than this (ISO-8601, e.g. PT5M).")
    Duration maxAge;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Instant now = Instant.now();
        try (Storage opened = storage.openExisting()) {
            StoredHistory history = StoredHistory.read(opened);
            LogCatalog catalog = history.catalog();
            List<ObjectInfo> snapshots = List.copyOf(catalog.snapshots().values());
            List<ObjectInfo> segments = catalog.log().values().stream().map(LogCatalog.LogObject::info).toList();
            out.printf("storage %s%n", storage);
            Optional<Position> latest = LogLookup.latestPosition(opened, catalog);
            if (latest.isEmpty()) {
                out.printf("no snapshot: no primary has shipped a database here%n");
                out.flush();
                return ExitCode.NOT_AVAILABLE.code;
            }
            Position position = latest.get();
            out.printf("latest txid %d, %s %s (%s ago), in %s%n", position.txid(),
                    position.key().startsWith(ObjectKey.SNAPSHOT_PREFIX) ? "snapshot taken" : "committed",
                    Instant.ofEpochMilli(position.timeMillis()), age(now, Instant.ofEpochMilli(position.timeMillis())),
                    position.key());
            ObjectInfo newest = newest(snapshots, segments);
            out.printf("newest object %s, stored %s (%s ago)%n", newest.key(), newest.lastModified(),
                    age(now, newest.lastModified()));
            ObjectInfo newestSnapshot = catalog.snapshots().lastEntry().getValue();
            out.printf("newest snapshot txid %d, stored %s (%s ago)%n", catalog.latestSnapshot().getAsLong(),
                    newestSnapshot.lastModified(), age(now, newestSnapshot.lastModified()));
            out.printf("earliest restorable txid %d%n", history.earliest());
            int problems = LsCommand.printRestorable(out, history);
            out.printf("objects %d snapshots (%d bytes), %d log objects (%d bytes)%n", snapshots.size(),
                    bytes(snapshots), segments.size(), bytes(segments));
            if (problems > 0) {
                out.printf("DAMAGED: %d hole(s) or damaged object(s); run walship verify%n", problems);
                out.flush();
                return ExitCode.BAD_DATA.code;
            }
            if (maxAge != null && Duration.between(newest.lastModified(), now).compareTo(maxAge) > 0) {
                out.printf("STALE: nothing stored for %s, more than --max-age %s%n", age(now, newest.lastModified()),
                        maxAge);
                out.flush();
                return ExitCode.STALE.code;
            }
            out.flush();
            return ExitCode.OK.code;
        }
    }

    private static ObjectInfo newest(List<ObjectInfo> snapshots, List<ObjectInfo> segments) {
        return java.util.stream.Stream.concat(snapshots.stream(), segments.stream())
                .max(Comparator.comparing(ObjectInfo::lastModified)).orElseThrow();
    }

    private static long bytes(List<ObjectInfo> objects) {
        return objects.stream().mapToLong(ObjectInfo::size).sum();
    }

    /** A duration as people read it: 850ms, 12s, 4m05s, 3h02m, 2d04h. */
    static String age(Instant now, Instant then) {
        long millis = Math.max(0, Duration.between(then, now).toMillis());
        long seconds = millis / 1000;
        if (seconds < 1) {
            return millis + "ms";
        }
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return String.format("%dm%02ds", seconds / 60, seconds % 60);
        }
        if (seconds < 86400) {
            return String.format("%dh%02dm", seconds / 3600, seconds % 3600 / 60);
        }
        return String.format("%dd%02dh", seconds / 86400, seconds % 86400 / 3600);
    }
}
