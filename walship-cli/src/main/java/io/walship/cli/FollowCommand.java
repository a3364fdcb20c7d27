package io.walship.cli;

import io.walship.Problem;
import io.walship.replica.Replica;
import io.walship.replica.ReplicaOptions;
import io.walship.storage.Storage;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "follow", mixinStandardHelpOptions = true, description = "Keep a read-only replica database up to date (restores it first if needed).")
final class FollowCommand implements Callable<Integer>, StorageOption.WithStorage {
    /** Where the stream's token is read from when no file names it: never the command line, which ps shows. */
    static final String TOKEN_VARIABLE = "WALSHIP_STREAM_TOKEN";

    @Spec
    CommandSpec spec;

    @Mixin
    StorageOption storage;

    @Override
    public StorageOption storage() {
        return storage;
    }

    @Option(names = "--db", paramLabel = "FILE", defaultValue = "${env:WALSHIP_DB}",
            description = "The replica database file (required). Default: the WALSHIP_DB environment variable.")
    Path db;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "PT0.025S",
            description = "How long to wait between polls once caught up (ISO-8601, default ${DEFAULT-VALUE}).")
    Duration interval;

    @Option(names = "--once", description = "Apply what storage holds now, then exit.")
    boolean once;

    @Option(names = "--until-txid", paramLabel = "N", description = "Exit once txid N is applied.")
    Long untilTxid;

    @Option(names = "--stream", paramLabel = "URI",
            description = "Also follow the primary's live stream (walships://host:port over TLS, walship://host:port"
                    + " over plain TCP; Primary.serveStream); its token"
                    + " comes from --stream-token-file or the " + TOKEN_VARIABLE + " environment variable.")
    URI stream;

    /** Where the password of the stream's PKCS12 files is read from: never the command line. */
    static final String TLS_PASSWORD_VARIABLE = "WALSHIP_TLS_PASSWORD";

    @Option(names = "--stream-trust", paramLabel = "FILE",
            description = "With --stream walships://: PKCS12 file of the certificates to trust for the primary"
                    + " (default: the JVM's trust store); its password in " + TLS_PASSWORD_VARIABLE + ".")
    Path streamTrust;

    @Option(names = "--stream-key", paramLabel = "FILE",
            description = "With --stream walships://: PKCS12 file of this replica's key and certificate, for a"
                    + " primary that asks for client certificates; its password in " + TLS_PASSWORD_VARIABLE + ".")
    Path streamKey;

    @Option(names = "--stream-token-file", paramLabel = "FILE",
            description = "File holding the stream's token (surrounding whitespace ignored).")
    Path streamTokenFile;

    @Option(names = "--apply-unstored", description = "With --stream: apply transactions before the primary stored"
            + " them; fresher, and a transaction the primary loses is taken back (docs/STREAM.md).")
    boolean applyUnstored;

    @Option(names = "--stream-timeout", paramLabel = "DURATION", defaultValue = "PT60S",
            description = "With --stream: exit 8 once the stream has failed this long without connecting (a wrong"
                    + " token, a wrong address), naming why (ISO-8601, default ${DEFAULT-VALUE}).")
    Duration streamTimeout;

    @Option(names = "--stream-optional", description = "With --stream: keep following storage alone however long"
            + " the stream fails (each failure is still logged).")
    boolean streamOptional;

    @Option(names = "--replace", description = "If --db is not this storage's replica (a plain or restored database,"
            + " a replica of another storage), move it aside as FILE.diverged-<millis> and restore in its place."
            + " A primary's database is refused even so.")
    boolean replace;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "${env:WALSHIP_METRICS_PORT}",
            description = "Serve the replica's meters for Prometheus at http://HOST:PORT/metrics (0: any free port)."
                    + " Default: the WALSHIP_METRICS_PORT environment variable, else none.")
    Integer metricsPort;

    @Override
    public Integer call() throws InterruptedException, IOException {
        if (db == null) {
            throw new IllegalArgumentException("no replica file given: use --db FILE or set WALSHIP_DB");
        }
        StorageOption.requireDirectoryOf(db, "--db");
        PrintWriter out = spec.commandLine().getOut();
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        // Ctrl-C / SIGTERM: ask the loop to stop and give it time to close the replica cleanly,
        // then end the JVM with 0, not the 143 of a signal: a clean stop is a success for a
        // service manager. (A harder stop is safe too: every apply is crash-safe.)
        Thread hook = new Thread(() -> {
            stop.countDown();
            if (awaitQuietly(closed)) {
                out.flush();
                Runtime.getRuntime().halt(ExitCode.OK.code);
            }
        }, "walship-follow-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try (MetricsEndpoint metrics = metricsPort == null ? null : MetricsEndpoint.start(metricsPort);
             Storage opened = storage.openExisting();
             Replica replica = Replica.open(opened, db, options(metrics))) {
            if (metrics != null) {
                out.printf("metrics at http://localhost:%d/metrics%n", metrics.port());
            }
            if (once) {
                out.printf("replica %s txid=%d%n", db, replica.poll());
                return ExitCode.OK.code;
            }
            replica.follow();
            out.printf("following %s into %s from txid=%d%n", storage, db, replica.txid());
            out.flush();
            long reported = replica.txid();
            while (!stop.await(200, TimeUnit.MILLISECONDS)) {
                if (replica.txid() != reported) {
                    reported = replica.txid();
                    out.printf("txid=%d%n", reported);
                    out.flush();
                }
                if (untilTxid != null && reported >= untilTxid) {
                    break;
                }
                Optional<Problem> failing = stream == null || streamOptional ? Optional.empty() : replica.streamError();
                if (failing.isPresent() && Duration.between(failing.get().since(), Instant.now())
                        .compareTo(streamTimeout) >= 0) {
                    spec.commandLine().getErr().printf("walship: the live stream %s has failed for %s: %s (check the"
                                    + " address and the token; --stream-optional follows storage alone instead)%n",
                            stream, streamTimeout, failing.get().message());
                    return ExitCode.STREAM.code;
                }
            }
            out.printf("replica %s txid=%d%n", db, replica.txid());
            out.flush();
        } finally {
            closed.countDown();
            if (stop.getCount() > 0) {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
        }
        return ExitCode.OK.code;
    }

    private ReplicaOptions options(MetricsEndpoint metrics) throws IOException {
        ReplicaOptions.Builder options = ReplicaOptions.builder().pollInterval(interval).replaceForeignFile(replace)
                .maxErrorBackoff(interval.compareTo(Duration.ofSeconds(10)) > 0 ? interval : Duration.ofSeconds(10))
                .meterRegistry(metrics == null ? null : metrics.registry());
        if (stream != null) {
            options.stream(stream, streamToken());
            if (streamTrust != null || streamKey != null) {
                if (!"walships".equals(stream.getScheme())) {
                    throw new IllegalArgumentException("--stream-trust and --stream-key are for a TLS stream:"
                            + " walships://host:port");
                }
                String password = System.getenv(TLS_PASSWORD_VARIABLE);
                options.streamTls(io.walship.StreamServer.tls(streamKey, streamTrust,
                        (password == null ? "" : password).toCharArray()));
            }
        }
        return options.applyUnstored(applyUnstored).build(); // without --stream: refused, saying why
    }

    private String streamToken() throws IOException {
        String token = streamTokenFile != null ? Files.readString(streamTokenFile).strip()
                : System.getenv(TOKEN_VARIABLE);
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("--stream needs the token the primary serves it with: put it in a"
                    + " file named by --stream-token-file, or in the " + TOKEN_VARIABLE + " environment variable");
        }
        return token;
    }

    /** True when the latch opened within the time a service manager gives a stopping process. */
    private static boolean awaitQuietly(CountDownLatch latch) {
        try {
            return latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
