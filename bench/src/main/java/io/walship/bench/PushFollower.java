package io.walship.bench;

import io.walship.replica.Replica;
import io.walship.replica.ReplicaOptions;
import io.walship.storage.fs.FileSystemStorage;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The child JVM of push_lag: a replica following a primary's live stream, printing
 * {@code <txid> <System.nanoTime()>} each time its txid moves (the monotonic clock is the same
 * for every process of a host), until it is killed. Prints {@code OPEN <txid>} first. With
 * {@code unstored} it applies transactions before the primary stored them (applyUnstored).
 */
public final class PushFollower {
    private PushFollower() {
    }

    /** {@code <storage dir> <replica file> <stream uri> <token> stored|unstored}. */
    public static void main(String[] args) throws Exception {
        ReplicaOptions options = ReplicaOptions.builder().pollInterval(Duration.ofSeconds(1))
                .stream(URI.create(args[2]), args[3]).applyUnstored(args[4].equals("unstored")).build();
        try (Replica replica = Replica.open(FileSystemStorage.open(Path.of(args[0])), Path.of(args[1]), options)) {
            PrintStream out = System.out;
            long seen = replica.txid();
            out.println("OPEN " + seen);
            out.flush();
            replica.follow();
            while (true) {
                replica.awaitTxid(seen + 1, Duration.ofSeconds(1));
                long now = System.nanoTime();
                long txid = replica.txid();
                if (txid > seen) {
                    out.println(txid + " " + now);
                    out.flush();
                    seen = txid;
                }
            }
        }
    }
}
