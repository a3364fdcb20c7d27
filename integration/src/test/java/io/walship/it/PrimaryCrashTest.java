package io.walship.it;

import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.replica.Replica;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.ChildJvm;
import io.walship.testing.Rows;
import io.walship.testing.SqliteCli;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The crash matrix. A child JVM runs a primary ({@link CrashWorkload}) and a second one a
 * replica following the same storage through the {@code walship follow} command; both are
 * killed with SIGKILL, in turn anywhere, during a segment upload, a snapshot upload, a
 * checkpoint or a snapshot. After each kill the primary reopens from storage with every acked
 * row, the replica reopens consistent and catches up to the primary, both equal the reference
 * model ({@link CrashWorkload#payload}) and the {@code sqlite3} CLI finds both files sound.
 */
class PrimaryCrashTest {
    private static final Logger log = LoggerFactory.getLogger(PrimaryCrashTest.class);
    /** Kills per durability mode: 25 (50 per run) by default, more under the soak profile (-Psoak). */
    private static final int KILLS = Integer.getInteger("walship.crashKills", 25);
    private static final int KILLS_PER_EPOCH = 25;

    /** Where a kill is aimed: right after the child prints a line starting with {@code trigger}. */
    enum Target {
        ANYWHERE("ACK "),
        SEGMENT_UPLOAD("BEGIN put log/"),
        SNAPSHOT_UPLOAD("BEGIN put snapshots/"),
        CHECKPOINT("BEGIN checkpoint"),
        SNAPSHOT("BEGIN snapshot");

        final String trigger;

        Target(String trigger) {
            this.trigger = trigger;
        }
    }

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Durability.class)
    void kill9_primaryAndReplicaInEveryPhase_nothingAckedLostBothConsistent(Durability durability)
            throws Exception {
        Random random = new Random(durability.ordinal() * 1000L + 7);
        Map<Target, Integer> landedInside = new EnumMap<>(Target.class);
        long ackedRows = 0;
        long checkedAcks = 0;
        long storageBytes = 0;
        for (int first = 1; first <= KILLS; first += KILLS_PER_EPOCH) {
            // a fresh database and storage every KILLS_PER_EPOCH kills, so a soak's disk use stays bounded
            Path epoch = dir.resolve("epoch-" + first);
            Path storageDir = epoch.resolve("storage");
            Path db = epoch.resolve("app.db");
            Path replicaDb = epoch.resolve("replica.db");
            TreeMap<Long, Long> acked = new TreeMap<>(); // row id -> txid
            long nextId = 1;
            for (int kill = first; kill < first + KILLS_PER_EPOCH && kill <= KILLS; kill++) {
                Target target = Target.values()[kill % Target.values().length];
                Round round = new Round(target, 5 + random.nextInt(150));
                round.run(storageDir, db, replicaDb, durability, nextId);
                assertThat(round.output).as("child output").noneMatch(l -> l.startsWith("ERROR"));
                if (round.landedInside()) {
                    landedInside.merge(target, 1, Integer::sum);
                }
                for (String line : round.output) {
                    if (line.startsWith("ACK ")) {
                        String[] parts = line.split(" ");
                        acked.put(Long.parseLong(parts[2]), Long.parseLong(parts[1]));
                    }
                }
                long attemptedBelow = Math.max(nextId, acked.isEmpty() ? 0 : acked.lastKey() + 1) + 1000;
                checkedAcks += acked.size();
                checkAfterKill(kill, target, storageDir, db, replicaDb, acked, attemptedBelow);
                nextId = attemptedBelow;
            }
            RestoreResult restored = Restore.run(FileSystemStorage.open(storageDir), epoch.resolve("restored.db"),
                    RestoreTarget.latest());
            assertThat(queryLong(restored.path(), "select count(*) from t")).isGreaterThanOrEqualTo(acked.size());
            assertThat(SqliteCli.integrityCheck(restored.path())).isEqualTo("ok");
            ackedRows += acked.size();
            storageBytes = Math.max(storageBytes, sizeOf(storageDir));
            deleteTree(epoch);
        }
        log.info("crash matrix durability={} kills={} landedInside={} ackedRows={} ackChecks={} lost=0"
                + " maxStorageMiB={}", durability, KILLS, landedInside, ackedRows, checkedAcks, storageBytes >> 20);
        for (Target target : Target.values()) {
            if (target != Target.ANYWHERE && KILLS >= 2 * Target.values().length) {
                assertThat(landedInside).as("kills that landed inside their phase").containsKey(target);
            }
        }
    }

    /**
     * The primary reopens from storage with every acked row, both files equal the model, the
     * replica reopens sound and catches up to the primary's exact rows.
     */
    private static void checkAfterKill(int kill, Target target, Path storageDir, Path db, Path replicaDb,
                                       TreeMap<Long, Long> acked, long attemptedBelow) throws Exception {
        try (Primary primary = Primary.open(FileSystemStorage.open(storageDir), db, PrimaryOptions.durable())) {
            long maxAckedTxid = acked.values().stream().mapToLong(Long::longValue).max().orElse(0);
            assertThat(primary.txid()).as("kill %d (%s)", kill, target).isGreaterThanOrEqualTo(maxAckedTxid);
            for (long id : acked.keySet()) {
                long present = queryLong(primary, "select count(*) from t where id = " + id);
                assertThat(present).as("kill %d (%s): acked row %d (txid %d)", kill, target, id, acked.get(id))
                        .isEqualTo(1);
            }
            primary.read(conn -> assertMatchesModel(conn, attemptedBelow));

            try (Replica replica = Replica.open(FileSystemStorage.open(storageDir), replicaDb)) {
                assertThat(SqliteCli.integrityCheck(replicaDb)).isEqualTo("ok");
                replica.read(conn -> assertMatchesModel(conn, attemptedBelow));
                while (replica.txid() < primary.txid()) {
                    replica.poll();
                }
                String replicaRows = replica.read(Rows::fingerprint);
                assertThat(replicaRows).as("kill %d (%s): replica equals primary", kill, target)
                        .isEqualTo(primary.read(Rows::fingerprint));
            }
        }
        assertThat(SqliteCli.integrityCheck(db)).isEqualTo("ok");
    }

    private static long sizeOf(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(f);
            }
        }
    }

    /** Every row is one the workload wrote (id below the bound) and carries the model's payload. */
    private static Void assertMatchesModel(Connection conn, long idsBelow) throws SQLException {
        try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("select id, payload from t")) {
            while (rs.next()) {
                long id = rs.getLong(1);
                assertThat(id).isLessThan(idsBelow);
                assertThat(rs.getString(2)).as("payload of row %d", id).isEqualTo(CrashWorkload.payload(id));
            }
        }
        return null;
    }

    /** One primary child and one replica child, killed together when the target's trigger shows. */
    private static final class Round {
        final Target target;
        final int wanted;
        final List<String> output = Collections.synchronizedList(new ArrayList<>());
        final AtomicReference<String> trigger = new AtomicReference<>();

        Round(Target target, int wanted) {
            this.target = target;
            this.wanted = wanted;
        }

        void run(Path storageDir, Path db, Path replicaDb, Durability durability, long firstId) throws Exception {
            Process primary = ChildJvm.start(ProcessBuilder.Redirect.PIPE, CrashWorkload.class.getName(), storageDir.toString(), db.toString(),
                    durability.name(), Long.toString(firstId), "4");
            Process[] replica = new Process[1];
            CountDownLatch killed = new CountDownLatch(1);
            AtomicInteger acks = new AtomicInteger();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(primary.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        output.add(line);
                        if (line.startsWith("OPEN ")) {
                            replica[0] = ChildJvm.start(ProcessBuilder.Redirect.DISCARD, "io.walship.cli.WalshipCommand", "follow",
                                    "file://" + storageDir, "--db", replicaDb.toString(), "--interval", "PT0.005S");
                        }
                        if (line.startsWith("ACK ")) {
                            acks.incrementAndGet();
                        }
                        if (killed.getCount() > 0 && (acks.get() >= wanted && line.startsWith(target.trigger)
                                || line.startsWith("ERROR"))) {
                            // SIGKILL through the handle: Process.destroyForcibly would also close
                            // the pipe and lose the lines the child printed just before
                            primary.toHandle().destroyForcibly();
                            trigger.set(line);
                            killed.countDown();
                        }
                    }
                } catch (IOException e) {
                    output.add("ERROR reading child output: " + e);
                }
            });
            reader.start();
            boolean fired = killed.await(60, TimeUnit.SECONDS);
            primary.toHandle().destroyForcibly();
            if (replica[0] != null) {
                replica[0].toHandle().destroyForcibly();
                assertThat(replica[0].waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(primary.waitFor(30, TimeUnit.SECONDS)).isTrue();
            reader.join(); // acks printed before the signal landed count too
            assertThat(fired).as("%s never came after %d acks: %s", target.trigger, wanted, output).isTrue();
        }

        /** The phase that triggered the kill never printed its END line. */
        boolean landedInside() {
            String begin = trigger.get();
            if (begin == null || !begin.startsWith("BEGIN ")) {
                return false;
            }
            List<String> lines = List.copyOf(output);
            return !lines.subList(lines.lastIndexOf(begin), lines.size()).contains("END " + begin.substring(6));
        }
    }
}
