package io.walship.replica;

import io.walship.storage.fs.FileSystemStorage;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The child process of {@link ReplicaCrashTest}: opens a replica and follows storage until it
 * is killed. Prints {@code OPEN <txid>} once open.
 */
public final class ReplicaFollowProcess {
    private ReplicaFollowProcess() {
    }

    public static void main(String[] args) throws Exception {
        Replica replica = Replica.open(FileSystemStorage.open(Path.of(args[0])), Path.of(args[1]),
                ReplicaOptions.builder().pollInterval(Duration.ofMillis(1)).build());
        System.out.println("OPEN " + replica.txid());
        System.out.flush();
        replica.follow();
        Thread.sleep(Long.MAX_VALUE);
    }
}
