package io.walship.cli;

import io.walship.restore.StorageSnapshot;
import io.walship.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "snapshot", mixinStandardHelpOptions = true, description = "Build a new snapshot from the newest one and the log after it,"
        + " without the primary.")
final class SnapshotCommand implements Callable<Integer>, StorageOption.WithStorage {
    @Spec
    CommandSpec spec;

    @Mixin
    StorageOption storage;

    @Override
    public StorageOption storage() {
        return storage;
    }

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Scratch space (default: the system temp directory).")
    Path workDir;

    @Option(names = "--progress", negatable = true, description = "Show a progress bar (default: when on a terminal).")
    Boolean progress;

    @Override
    public Integer call() throws IOException {
        ProgressBar bar = new ProgressBar(spec.commandLine().getErr(),
                progress != null ? progress : System.console() != null);
        Path dir = workDir != null ? workDir : Path.of(System.getProperty("java.io.tmpdir"));
        try (Storage opened = storage.openExisting()) {
            StorageSnapshot.Result result = StorageSnapshot.build(opened, dir, InstantSource.system(), bar);
            bar.done();
            spec.commandLine().getOut().printf("snapshot txid=%d pages=%d %s%n", result.txid(), result.pageCount(),
                    result.created() ? "stored" : "already in storage");
        }
        return ExitCode.OK.code;
    }
}
