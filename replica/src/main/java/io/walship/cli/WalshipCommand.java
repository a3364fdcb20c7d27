package io.walship.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * The {@code walship} command line: restore, follow, list, verify and snapshot a database
 * stored by a walship primary. Every command takes the storage URL first.
 */
@Command(name = "walship", mixinStandardHelpOptions = true, version = "walship 0.1.0",
        description = "Restore, follow, list, verify, snapshot and check SQLite databases shipped by walship.",
        subcommands = {RestoreCommand.class, FollowCommand.class, LsCommand.class, VerifyCommand.class,
                SnapshotCommand.class, StatusCommand.class, CompactCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:unexpected failure", "2:bad command line",
                "3:damaged or inconsistent data in storage (verify found a problem)",
                "4:requested state not in storage, or the storage does not exist", "5:storage unreachable or refused",
                "6:database owned by another walship process, target file exists, or --db is not this"
                        + " storage's replica (nothing changed)",
                "7:status --max-age: nothing stored for longer than that",
                "8:follow --stream: the live stream failed for --stream-timeout"})
public final class WalshipCommand implements Runnable {
    @Spec
    CommandSpec spec;

    /** Runs the command line and exits with its exit code. */
    public static void main(String[] args) {
        // the command line prints its own results; library INFO lines would only clutter them
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs the command line with the given streams and returns the exit code. */
    static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine line = new CommandLine(new WalshipCommand());
        line.setOut(out);
        line.setErr(err);
        line.setExecutionExceptionHandler((e, commandLine, parsed) -> {
            ExitCode code = ExitCode.of(e);
            commandLine.getErr().println("walship: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            if (code == ExitCode.FAILED) {
                e.printStackTrace(commandLine.getErr());
            }
            return code.code;
        });
        return line.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
