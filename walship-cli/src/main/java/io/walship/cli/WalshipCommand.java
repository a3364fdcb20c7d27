package io.walship.cli;

import java.io.PrintWriter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * The {@code walship} command line: restore, follow, list, verify and snapshot a database
 * stored by a walship primary. Every command takes the storage URL first.
 *
 * <p>Errors are one line in words on stderr ({@link ErrorMessage}); {@code --debug} adds the
 * stack trace. {@code walship} alone prints the usage and exits 2, as a usage error does;
 * {@code walship help CMD}, {@code walship CMD --help} and {@code -h} print help and exit 0.
 */
@Command(name = "walship", mixinStandardHelpOptions = true, version = "walship 0.1.0",
        description = "Restore, follow, list, verify, snapshot and check SQLite databases shipped by walship.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:unexpected failure", "2:bad command line",
                "3:damaged or inconsistent data in storage (verify found a problem)",
                "4:requested state not in storage, or the storage does not exist", "5:storage unreachable or refused",
                "6:database owned by another walship process, target file exists, or --db is not this"
                        + " storage's replica (nothing changed)",
                "7:status --max-age: nothing stored for longer than that",
                "8:follow --stream: the live stream failed for --stream-timeout"})
public final class WalshipCommand implements Callable<Integer> {
    /*
     * Only the command called is built. picocli reads every option, mixin and annotation of each
     * command it is given, through reflection and annotation proxies, before it parses anything:
     * all eight cost about 35 ms of a `walship ls` that takes 0.3 s in all (15 paired runs,
     * median 0.347 -> 0.313 s). When the first argument names a command, that command alone is
     * added; anything else (no command, an option first, `help`, a mistyped name) gets all of
     * them, so usage, `help CMD` and "did you mean" read as before.
     */
    /** Every command by the name it is called with, in the order usage lists them. */
    static final Map<String, Supplier<Object>> COMMANDS = commands();

    private static Map<String, Supplier<Object>> commands() {
        Map<String, Supplier<Object>> commands = new LinkedHashMap<>();
        commands.put("restore", RestoreCommand::new);
        commands.put("follow", FollowCommand::new);
        commands.put("ls", LsCommand::new);
        commands.put("verify", VerifyCommand::new);
        commands.put("snapshot", SnapshotCommand::new);
        commands.put("status", StatusCommand::new);
        commands.put("compact", CompactCommand::new);
        commands.put("help", HelpCommand::new);
        return Collections.unmodifiableMap(commands);
    }

    @Spec
    CommandSpec spec;

    /** Set by {@code --debug} on any command; read by the error handler of the same run. */
    private boolean debug;

    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "On an error, also print its Java type and stack trace.")
    void debug(boolean value) {
        debug = value;
    }

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
        WalshipCommand top = new WalshipCommand();
        CommandLine line = commandLine(top, args);
        line.setOut(out);
        line.setErr(err);
        line.setExecutionExceptionHandler((e, commandLine, parsed) -> {
            ExitCode code = ExitCode.of(e);
            PrintWriter to = commandLine.getErr();
            to.println("walship: " + ErrorMessage.of(e)
                    + (code == ExitCode.FAILED && !top.debug ? " (run again with --debug for details)" : ""));
            if (commandLine.getCommand() instanceof StorageOption.WithStorage command) {
                command.storage().sharedRootHint(e).ifPresent(hint -> to.println("walship: " + hint));
            }
            if (top.debug) {
                e.printStackTrace(to);
            }
            return code.code;
        });
        return line.execute(args);
    }

    /** The command line for {@code args}: the command they call, or every command (see the note). */
    static CommandLine commandLine(WalshipCommand top, String... args) {
        CommandLine line = new CommandLine(top);
        Supplier<Object> called = args.length == 0 || args[0].equals("help") ? null : COMMANDS.get(args[0]);
        if (called != null) {
            line.addSubcommand(called.get());
        } else {
            COMMANDS.values().forEach(command -> line.addSubcommand(command.get()));
        }
        return line;
    }

    /** {@code walship} with no command: the usage, on stderr, and the usage error's exit code. */
    @Override
    public Integer call() {
        CommandLine line = spec.commandLine();
        line.getErr().println("walship: a command is missing");
        line.usage(line.getErr());
        return ExitCode.USAGE.code;
    }
}
