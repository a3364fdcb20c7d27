package io.walship.cli;

import io.walship.restore.Verifier;
import io.walship.storage.Storage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "verify", mixinStandardHelpOptions = true, description = "Replay the whole history and check every checksum; report the first bad object.")
final class VerifyCommand implements Callable<Integer>, StorageOption.WithStorage {
    @Spec
    CommandSpec spec;

    @Mixin
    StorageOption storage;

    @Override
    public StorageOption storage() {
        return storage;
    }

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Scratch space for the replayed database"
            + " (default: the system temp directory).")
    Path workDir;

    @Option(names = "--progress", negatable = true, description = "Show a progress bar (default: when on a terminal).")
    Boolean progress;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        ProgressBar bar = new ProgressBar(spec.commandLine().getErr(),
                progress != null ? progress : System.console() != null);
        Path dir = workDir != null ? workDir : Path.of(System.getProperty("java.io.tmpdir"));
        try (Storage opened = storage.openExisting()) {
            Verifier.Report report = Verifier.verify(opened, dir, bar);
            bar.done();
            out.printf("checked snapshots=%d segments=%d transactions=%d txids=%d..%d%n", report.snapshotsChecked(),
                    report.segmentsChecked(), report.transactionsChecked(), report.earliestTxid(), report.latestTxid());
            if (report.ok()) {
                out.println("ok");
                return ExitCode.OK.code;
            }
            spec.commandLine().getErr().println("walship: verify failed: " + report.problem().get().getMessage());
            storage.sharedRootHint(report.problem().get())
                    .ifPresent(hint -> spec.commandLine().getErr().println("walship: " + hint));
            return ExitCode.of(report.problem().get()).code;
        }
    }
}
