package io.walship.it;

import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.SqliteCli;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A child JVM writes and reports each stored transaction; the test kills it with SIGKILL at
 * random moments (mid-upload, mid-checkpoint, mid-snapshot: whatever it was doing) and then
 * checks that reopening from storage keeps every acknowledged transaction.
 */
class PrimaryCrashTest {
    private static final Logger log = LoggerFactory.getLogger(PrimaryCrashTest.class);
    /** Kills per durability mode: 25 (50 per run) by default, more under the soak profile (-Psoak). */
    private static final int KILLS = Integer.getInteger("walship.crashKills", 25);

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Durability.class)
    void kill9_atRandomMoments_everyAckedTransactionSurvives(Durability durability) throws Exception {
        Path storageDir = dir.resolve("storage");
        Path db = dir.resolve("app.db");
        Random random = new Random(durability.ordinal() * 1000L + 7);
        TreeMap<Long, Long> acked = new TreeMap<>(); // row id -> txid
        long nextId = 1;
        long checkedAcks = 0;
        for (int kill = 1; kill <= KILLS; kill++) {
            Process child = start(storageDir, db, durability, nextId);
            int wanted = 5 + random.nextInt(150);
            List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
            java.util.concurrent.Semaphore ackSeen = new java.util.concurrent.Semaphore(0);
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        lines.add(line);
                        if (line.startsWith("ACK ") || line.startsWith("ERROR")) {
                            ackSeen.release();
                        }
                    }
                } catch (java.io.IOException e) {
                    lines.add("ERROR reading child output: " + e);
                }
            });
            reader.start();
            boolean enough = ackSeen.tryAcquire(wanted, 60, TimeUnit.SECONDS);
            new ProcessBuilder("kill", "-9", Long.toString(child.pid())).start().waitFor();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            reader.join(); // acks printed before the signal landed count too
            assertThat(enough).as("child acked %d transactions: %s", wanted, lines).isTrue();
            assertThat(lines).as("child output").noneMatch(l -> l.startsWith("ERROR"));
            for (String line : lines) {
                if (line.startsWith("ACK ")) {
                    String[] parts = line.split(" ");
                    acked.put(Long.parseLong(parts[2]), Long.parseLong(parts[1]));
                }
            }
            nextId = acked.isEmpty() ? nextId : Math.max(nextId, acked.lastKey() + 1) + 1000;

            try (Primary primary = Primary.open(FileSystemStorage.open(storageDir), db, PrimaryOptions.durable())) {
                long maxAckedTxid = acked.values().stream().mapToLong(Long::longValue).max().orElse(0);
                assertThat(primary.txid()).as("kill %d", kill).isGreaterThanOrEqualTo(maxAckedTxid);
                for (long id : acked.keySet()) {
                    long present = queryLong(primary, "select count(*) from t where id = " + id);
                    assertThat(present).as("kill %d: acked row %d (txid %d)", kill, id, acked.get(id)).isEqualTo(1);
                }
                checkedAcks += acked.size();
            }
            assertThat(SqliteCli.integrityCheck(db)).isEqualTo("ok");
        }
        RestoreResult restored = Restore.run(FileSystemStorage.open(storageDir), dir.resolve("restored.db"),
                RestoreTarget.latest());
        assertThat(queryLong(restored.path(), "select count(*) from t")).isGreaterThanOrEqualTo(acked.size());
        assertThat(SqliteCli.integrityCheck(restored.path())).isEqualTo("ok");
        log.info("crash test durability={} kills={} ackedRows={} ackChecks={} lost=0", durability, KILLS,
                acked.size(), checkedAcks);
    }

    private static Process start(Path storageDir, Path db, Durability durability, long firstId) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = List.of(java, "-cp", System.getProperty("java.class.path"),
                "-Dorg.slf4j.simpleLogger.logFile=System.err", CrashWorkload.class.getName(), storageDir.toString(),
                db.toString(), durability.name(), Long.toString(firstId), "4");
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }
}
