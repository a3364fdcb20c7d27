package io.walship.cli;

import io.walship.WalshipException;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.Storage;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "restore", mixinStandardHelpOptions = true, description = "Restore the database (latest, or at a txid or time) into a new file.")
final class RestoreCommand implements Callable<Integer>, StorageOption.WithStorage {
    @Spec
    CommandSpec spec;

    @Mixin
    StorageOption storage;

    @Override
    public StorageOption storage() {
        return storage;
    }

    @Option(names = "--to", required = true, paramLabel = "FILE", description = "The file to create; must not exist.")
    Path to;

    @ArgGroup(exclusive = true)
    Target target;

    static final class Target {
        @Option(names = "--txid", paramLabel = "N", description = "Restore the state right after txid N.")
        Long txid;

        @Option(names = "--time", paramLabel = "INSTANT",
                description = "Restore every transaction committed at or before this ISO-8601 instant, "
                        + "e.g. 2026-11-25T10:00:00Z.")
        Instant time;
    }

    @Option(names = "--progress", negatable = true, description = "Show a progress bar (default: when on a terminal).")
    Boolean progress;

    @Override
    public Integer call() {
        StorageOption.requireDirectoryOf(to, "--to");
        RestoreTarget restoreTarget = target == null ? RestoreTarget.latest()
                : target.txid != null ? RestoreTarget.txid(target.txid) : RestoreTarget.time(target.time);
        ProgressBar bar = new ProgressBar(spec.commandLine().getErr(),
                progress != null ? progress : System.console() != null);
        try (Storage opened = storage.openExisting()) {
            RestoreResult result = Restore.run(opened, to, restoreTarget, bar);
            bar.done();
            for (WalshipException damaged : result.damagedSnapshots()) {
                spec.commandLine().getErr().printf("walship: passed over a damaged snapshot: %s%n", damaged.getMessage());
            }
            if (!result.damagedSnapshots().isEmpty()) {
                spec.commandLine().getErr().printf("walship: restored from the older snapshot at txid %d and the log"
                        + " after it instead (run walship verify)%n", result.snapshotTxid());
            }
            spec.commandLine().getOut().printf("restored %s txid=%d pages=%d pageSize=%d snapshotTxid=%d segments=%d%n",
                    result.path(), result.txid(), result.pageCount(), result.pageSize(), result.snapshotTxid(),
                    result.segmentsApplied());
        }
        return ExitCode.OK.code;
    }
}
