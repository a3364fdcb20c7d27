package io.walship.cli;

import io.walship.BadObjectException;
import io.walship.TxidRange;
import io.walship.WalshipException;
import io.walship.compaction.CompactionPolicy;
import io.walship.compaction.CompactionResult;
import io.walship.compaction.Compactor;
import io.walship.internal.log.ObjectKey;
import io.walship.storage.Storage;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Compaction and retention as a separate process: once (cron) or every {@code --every} (a
 * sidecar), for primaries opened with compaction off. Safe beside another compactor, and to kill
 * at any moment. A run that found a hole or damage says so on stderr and, run once, exits 3: it
 * left those alone (and while a hole exists, retention deletes nothing).
 */
@Command(name = "compact", mixinStandardHelpOptions = true, description = "Merge small log objects into compacted ones and delete what the"
        + " retention window no longer needs; once, or every --every.")
final class CompactCommand implements Callable<Integer>, StorageOption.WithStorage {
    @Spec
    CommandSpec spec;

    @Mixin
    StorageOption storage;

    @Override
    public StorageOption storage() {
        return storage;
    }

    @Option(names = "--retention", paramLabel = "DURATION", defaultValue = "P7D",
            description = "Keep every txid of this window restorable (ISO-8601, default ${DEFAULT-VALUE}).")
    Duration retention;

    @Option(names = "--grace", paramLabel = "DURATION", defaultValue = "PT1M",
            description = "Delete small objects this long after a compacted object holds them"
                    + " (default ${DEFAULT-VALUE}).")
    Duration grace;

    @Option(names = "--every", paramLabel = "DURATION",
            description = "Run again after this pause, until stopped (default: run once).")
    Duration every;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Where large compacted objects are assembled (default: the system temp directory).")
    Path workDir;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        CompactionPolicy policy = CompactionPolicy.defaults().withRetention(retention).withGrace(grace);
        Path dir = workDir != null ? workDir : Path.of(System.getProperty("java.io.tmpdir"));
        try (Storage opened = storage.openExisting();
             Compactor compactor = new Compactor(opened, policy, InstantSource.system(), dir)) {
            if (opened.list(ObjectKey.SNAPSHOT_PREFIX).isEmpty() && opened.list(ObjectKey.LOG_PREFIX).isEmpty()) {
                Optional<String> hint = storage.sharedRootHint(); // a runtime's root: compact each database
                if (hint.isPresent()) {
                    err.printf("walship: nothing to compact here; %s%n", hint.get());
                    return ExitCode.NOT_AVAILABLE.code;
                }
            }
            while (true) {
                CompactionResult result = compactor.run();
                out.printf("compacted created=%d replaced=%d expired=%d deleted=%d bytes, earliest restorable txid %d,"
                                + " storage holds %d objects, %d bytes%n", result.created(), result.replaced(),
                        result.expired(), result.bytesDeleted(), result.earliestTxid(), result.objects(),
                        result.bytes());
                out.printf("restorable txids %s%n", result.restorable().isEmpty() ? "none"
                        : result.restorable().stream().map(TxidRange::toString).collect(Collectors.joining(", ")));
                for (TxidRange hole : result.holes()) {
                    err.printf("walship: HOLE: txids %s cannot be restored (no snapshot and log reach them);"
                            + " retention deleted nothing%n", hole);
                }
                for (WalshipException problem : result.problems()) {
                    if (!(problem instanceof BadObjectException bad && bad.kind() == BadObjectException.Kind.TXID_GAP)) {
                        err.printf("walship: PROBLEM: %s%n", problem.getMessage());
                    }
                }
                out.flush();
                err.flush();
                if (every == null) {
                    return result.ok() ? ExitCode.OK.code : ExitCode.BAD_DATA.code;
                }
                Thread.sleep(every.toMillis());
            }
        }
    }
}
