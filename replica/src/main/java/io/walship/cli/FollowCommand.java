package io.walship.cli;

import io.walship.replica.Replica;
import io.walship.replica.ReplicaOptions;
import io.walship.storage.Storage;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "follow", description = "Keep a read-only replica database up to date (restores it first if needed).")
final class FollowCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    StorageOption storage;

    @Option(names = "--db", required = true, paramLabel = "FILE", description = "The replica database file.")
    Path db;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "PT0.025S",
            description = "How long to wait between polls once caught up (ISO-8601, default ${DEFAULT-VALUE}).")
    Duration interval;

    @Option(names = "--once", description = "Apply what storage holds now, then exit.")
    boolean once;

    @Option(names = "--until-txid", paramLabel = "N", description = "Exit once txid N is applied.")
    Long untilTxid;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        ReplicaOptions options = ReplicaOptions.builder().pollInterval(interval)
                .maxErrorBackoff(interval.compareTo(Duration.ofSeconds(10)) > 0 ? interval : Duration.ofSeconds(10))
                .build();
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        // Ctrl-C / SIGTERM: ask the loop to stop and give it time to close the replica cleanly.
        // (A harder stop is safe too: every apply is crash-safe.)
        Thread hook = new Thread(() -> {
            stop.countDown();
            awaitQuietly(closed);
        }, "walship-follow-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try (Storage opened = storage.open(); Replica replica = Replica.open(opened, db, options)) {
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
            }
            out.printf("replica %s txid=%d%n", db, replica.txid());
        } finally {
            closed.countDown();
            if (stop.getCount() > 0) {
                Runtime.getRuntime().removeShutdownHook(hook);
            }
        }
        return ExitCode.OK.code;
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
