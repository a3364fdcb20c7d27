package io.walship.replica;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.ChildJvm;
import io.walship.testing.Heavy;
import io.walship.testing.Rows;
import io.walship.testing.SqliteCli;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A child JVM follows storage and is killed with SIGKILL at random moments, often in the middle
 * of applying a segment; every reopen must give a consistent replica that then catches up.
 */
@Heavy
class ReplicaCrashTest {
    private static final Logger log = LoggerFactory.getLogger(ReplicaCrashTest.class);
    /** 10 by default, more under the soak profile (-Psoak). */
    private static final int KILLS = Integer.getInteger("walship.replicaCrashKills", 10);

    @TempDir
    Path dir;

    @Test
    void kill9_midApply_reopenIsConsistentAndCatchesUp() throws Exception {
        Path storageDir = dir.resolve("storage");
        Path replicaDb = dir.resolve("replica.db");
        Random random = new Random(21);
        int interrupted = 0;
        try (Primary primary = Primary.open(FileSystemStorage.open(storageDir), dir.resolve("primary.db"),
                PrimaryOptions.durable())) {
            primary.write(conn -> {
                exec(conn, "create table account(id integer primary key, balance int)");
                exec(conn, "create table audit(id integer primary key, body blob)");
                for (int i = 0; i < 10; i++) {
                    exec(conn, "insert into account values (" + i + ", 100)");
                }
            }).get();
            try (Replica first = Replica.open(FileSystemStorage.open(storageDir), replicaDb)) {
                assertThat(first.txid()).isEqualTo(primary.txid());
            }
            for (int kill = 1; kill <= KILLS; kill++) {
                for (int i = 0; i < 60; i++) {
                    int from = random.nextInt(10);
                    int to = random.nextInt(10);
                    int amount = random.nextInt(30);
                    primary.write(conn -> {
                        exec(conn, "update account set balance = balance - " + amount + " where id = " + from);
                        exec(conn, "insert into audit(body) values (randomblob(400000))");
                        exec(conn, "update account set balance = balance + " + amount + " where id = " + to);
                        if (amount % 7 == 0) {
                            exec(conn, "delete from audit where id % 2 = 0");
                        }
                        // keep the newest 100 blobs: the database stays ~40 MB however long the soak
                        exec(conn, "delete from audit where id <= (select max(id) from audit) - 100");
                    }).get();
                }
                Path childErr = dir.resolve("child-" + kill + ".err");
                Process child = ChildJvm.start(ProcessBuilder.Redirect.PIPE,
                        ProcessBuilder.Redirect.to(childErr.toFile()), List.of(), Map.of(),
                        ReplicaFollowProcess.class.getName(), storageDir.toString(), replicaDb.toString());
                try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line = out.readLine();
                    if (line == null) {
                        child.waitFor(30, TimeUnit.SECONDS);
                    }
                    String stderr = line == null ? Files.readString(childErr) : "";
                    assertThat(line).as("child started; its stderr:%n%s", stderr).startsWith("OPEN ");
                    if (kill % 2 == 0) {
                        Thread.sleep(random.nextInt(60)); // anywhere
                    } else {
                        awaitApplyIntent(replicaDb); // inside an apply: the intent is on disk
                    }
                    new ProcessBuilder("kill", "-9", Long.toString(child.pid())).start().waitFor();
                    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
                }
                ReplicaState state = ReplicaState.read(ReplicaState.pathFor(replicaDb)).orElseThrow();
                if (state.applying()) {
                    interrupted++;
                }
                try (Replica replica = Replica.open(FileSystemStorage.open(storageDir), replicaDb)) {
                    long sum = replica.read(conn -> queryLong(conn, "select sum(balance) from account"));
                    assertThat(sum).as("kill %d", kill).isEqualTo(1000L);
                    assertThat(SqliteCli.integrityCheck(replicaDb)).isEqualTo("ok");
                    replica.follow();
                    assertThat(replica.awaitTxid(primary.txid(), Duration.ofSeconds(60))).isTrue();
                    String fingerprint = replica.read(Rows::fingerprint);
                    assertThat(fingerprint).isEqualTo(primary.read(Rows::fingerprint));
                }
            }
        }
        log.info("replica crash test kills={} interruptedApplies={}", KILLS, interrupted);
        assertThat(interrupted).as("some kills landed mid-apply").isPositive();
    }

    private static void awaitApplyIntent(Path replicaDb) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            try {
                if (ReplicaState.read(ReplicaState.pathFor(replicaDb)).map(ReplicaState::applying).orElse(false)) {
                    return;
                }
            } catch (java.io.IOException | io.walship.WalshipException e) {
                // the state file is being replaced right now: look again
                Thread.onSpinWait();
            }
        }
    }
}
