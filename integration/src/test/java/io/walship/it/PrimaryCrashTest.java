package io.walship.it;

import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Durability;
import io.walship.OpenOutcome;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.replica.Replica;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.Await;
import io.walship.testing.ChildJvm;
import io.walship.testing.Heavy;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
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
 * checkpoint, a snapshot, or while the primary reopens after the previous kill. After each kill
 * the primary reopens from its own file with every row whose {@code write} had returned (acked
 * or not), never moving the file aside; storage then receives them; a restore and the replica
 * (reopened consistent, caught up) equal the primary, all equal the reference model
 * ({@link CrashWorkload#payload}) and the {@code sqlite3} CLI finds the files sound.
 */
@Heavy
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
        SNAPSHOT("BEGIN snapshot"),
        /** The child's own open, which resumes from what the previous kill left: nothing checks in between. */
        REOPEN("BEGIN open");

        final String trigger;

        Target(String trigger) {
            this.trigger = trigger;
        }
    }

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Durability.class)
    void kill9_primaryAndReplicaInEveryPhase_everyWrittenRowKeptNothingRebuilt(Durability durability)
            throws Exception {
        Random random = new Random(durability.ordinal() * 1000L + 7);
        Map<Target, Integer> landedInside = new EnumMap<>(Target.class);
        Map<OpenOutcome.Kind, Integer> reopens = new EnumMap<>(OpenOutcome.Kind.class);
        int fileReads = 0;
        long writtenRows = 0;
        long ackedRows = 0;
        long storageBytes = 0;
        for (int first = 1; first <= KILLS; first += KILLS_PER_EPOCH) {
            // a fresh database and storage every KILLS_PER_EPOCH kills, so a soak's disk use stays bounded
            Path epoch = dir.resolve("epoch-" + first);
            Path storageDir = epoch.resolve("storage");
            Path db = epoch.resolve("app.db");
            Path replicaDb = epoch.resolve("replica.db");
            TreeMap<Long, Long> written = new TreeMap<>(); // row id -> txid, of every write that returned
            long acked = 0;
            long nextId = 1;
            int last = Math.min(first + KILLS_PER_EPOCH - 1, KILLS);
            for (int kill = first; kill <= last; kill++) {
                Target target = target(kill);
                Round round = new Round(target, target == Target.REOPEN ? 0 : 5 + random.nextInt(150));
                round.run(storageDir, db, replicaDb, durability, nextId);
                assertThat(round.output).as("child output").noneMatch(l -> l.startsWith("ERROR"))
                        .noneMatch(l -> l.startsWith("OPENED " + OpenOutcome.Kind.REBUILT));
                if (round.landedInside()) {
                    landedInside.merge(target, 1, Integer::sum);
                }
                for (String line : round.output) {
                    String[] parts = line.split(" ");
                    if (line.startsWith("WROTE ")) {
                        written.put(Long.parseLong(parts[2]), Long.parseLong(parts[1]));
                    } else if (line.startsWith("ACK ")) {
                        acked++;
                    }
                }
                long attemptedBelow = Math.max(nextId, written.isEmpty() ? 0 : written.lastKey() + 1) + 1000;
                nextId = attemptedBelow;
                if (kill < last && target(kill + 1) == Target.REOPEN) {
                    continue; // the next child reopens what this kill left, and is killed while it does
                }
                OpenOutcome outcome = checkAfterKill(kill, target, storageDir, db, replicaDb, written, attemptedBelow);
                reopens.merge(outcome.kind(), 1, Integer::sum);
                fileReads += outcome.fileRead() ? 1 : 0;
            }
            RestoreResult restored = Restore.run(FileSystemStorage.open(storageDir), epoch.resolve("restored.db"),
                    RestoreTarget.latest());
            assertThat(queryLong(restored.path(), "select count(*) from t")).isGreaterThanOrEqualTo(written.size());
            assertThat(SqliteCli.integrityCheck(restored.path())).isEqualTo("ok");
            writtenRows += written.size();
            ackedRows += acked;
            storageBytes = Math.max(storageBytes, sizeOf(storageDir));
            deleteTree(epoch);
        }
        log.info("crash matrix durability={} kills={} landedInside={} reopens={} fileReads={} writtenRows={}"
                        + " ackedRows={} lost=0 movedAside=0 maxStorageMiB={}", durability, KILLS, landedInside, reopens,
                fileReads, writtenRows, ackedRows, storageBytes >> 20);
        assertThat(reopens).as("a process kill never costs a rebuild").doesNotContainKey(OpenOutcome.Kind.REBUILT);
        for (Target target : Target.values()) {
            if (target != Target.ANYWHERE && KILLS >= 2 * Target.values().length) {
                assertThat(landedInside).as("kills that landed inside their phase").containsKey(target);
            }
        }
    }

    private static Target target(int kill) {
        return Target.values()[kill % Target.values().length];
    }

    /**
     * The primary reopens from its own file with every row whose write returned, moves nothing
     * aside, and ships what storage lacked; both files equal the model; a restore and the
     * replica, reopened sound and caught up, equal the primary's exact rows.
     */
    private static OpenOutcome checkAfterKill(int kill, Target target, Path storageDir, Path db, Path replicaDb,
                                              TreeMap<Long, Long> written, long attemptedBelow) throws Exception {
        OpenOutcome outcome;
        try (Primary primary = Primary.open(FileSystemStorage.open(storageDir), db, PrimaryOptions.durable())) {
            outcome = primary.openOutcome();
            assertThat(outcome.kind()).as("kill %d (%s): %s", kill, target, outcome)
                    .isNotEqualTo(OpenOutcome.Kind.REBUILT);
            assertThat(outcome.movedAside()).isEmpty();
            long maxWrittenTxid = written.values().stream().mapToLong(Long::longValue).max().orElse(0);
            assertThat(primary.txid()).as("kill %d (%s)", kill, target).isGreaterThanOrEqualTo(maxWrittenTxid);
            Set<Long> present = primary.read(PrimaryCrashTest::ids);
            for (long id : written.keySet()) {
                assertThat(present).as("kill %d (%s): row %d written at txid %d, %s", kill, target, id,
                        written.get(id), outcome).contains(id);
            }
            primary.read(conn -> assertMatchesModel(conn, attemptedBelow));
            assertThat(primary.flush().get()).as("storage receives every resumed transaction")
                    .isEqualTo(primary.txid());
            String rows = primary.read(Rows::fingerprint);
            Path restored = db.resolveSibling("check-" + kill + ".db");
            Restore.run(FileSystemStorage.open(storageDir), restored, RestoreTarget.latest());
            assertThat(Rows.fingerprint(restored)).as("kill %d (%s): restore equals primary", kill, target)
                    .isEqualTo(rows);
            Files.delete(restored);

            try (Replica replica = Replica.open(FileSystemStorage.open(storageDir), replicaDb)) {
                assertThat(SqliteCli.integrityCheck(replicaDb)).isEqualTo("ok");
                replica.read(conn -> assertMatchesModel(conn, attemptedBelow));
                Await.until("the replica to reach the primary's txid", Duration.ofSeconds(60),
                        () -> replica.poll() >= primary.txid());
                String replicaRows = replica.read(Rows::fingerprint);
                assertThat(replicaRows).as("kill %d (%s): replica equals primary", kill, target).isEqualTo(rows);
            }
        }
        assertThat(SqliteCli.integrityCheck(db)).isEqualTo("ok");
        try (Stream<Path> files = Files.list(db.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".diverged-"));
        }
        return outcome;
    }

    /** The row ids in t; none when t was never created (a kill during the epoch's first open, the bootstrap). */
    private static Set<Long> ids(Connection conn) throws SQLException {
        Set<Long> ids = new HashSet<>();
        if (!hasTable(conn)) {
            return ids;
        }
        try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("select id from t")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        return ids;
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

    private static boolean hasTable(Connection conn) throws SQLException {
        try (Statement s = conn.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from sqlite_master where name = 't'")) {
            return rs.next() && rs.getInt(1) == 1;
        }
    }

    /** Every row is one the workload wrote (id below the bound) and carries the model's payload. */
    private static Void assertMatchesModel(Connection conn, long idsBelow) throws SQLException {
        if (!hasTable(conn)) {
            return null;
        }
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
