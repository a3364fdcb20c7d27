package io.walship.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.Walship;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.ChildJvm;
import io.walship.testing.Heavy;
import io.walship.testing.Rows;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * kill -9 of a runtime holding many databases, while four threads write to all of them
 * ({@link ManyDatabaseWriter}), or while it opens them: in every database, every acknowledged
 * row is in storage before anything reopens, and every row whose write returned is in the file
 * when the runtime reopens, then in storage once it closes. Half the databases are DURABLE,
 * half ASYNC, and they checkpoint often.
 */
@Heavy
class ManyDatabasesCrashTest {
    private static final Logger log = LoggerFactory.getLogger(ManyDatabasesCrashTest.class);
    private static final int DATABASES = 40;
    private static final int KILLS = Integer.getInteger("walship.manyDbKills", 6);

    @TempDir
    Path dir;

    @Test
    void kill9_ofARuntimeWithManyDatabases_losesNoAcknowledgedOrCommittedRowInAny() throws Exception {
        Path storage = dir.resolve("storage");
        Path databases = dir.resolve("databases");
        Files.createDirectories(databases);
        Random random = new Random(29);
        List<Set<Long>> written = new ArrayList<>();
        for (int i = 0; i < DATABASES; i++) {
            written.add(new HashSet<>());
        }
        long nextId = 1;
        int acked = 0;
        int whileOpening = 0;
        for (int kill = 0; kill < KILLS; kill++) {
            // every third kill lands while the runtime is still opening its databases
            boolean duringOpen = kill % 3 == 2;
            Map<Integer, Set<Long>> ackedNow = new HashMap<>();
            long firstId = nextId;
            Process child = ChildJvm.start(ProcessBuilder.Redirect.PIPE, ManyDatabaseWriter.class.getName(),
                    storage.toString(), databases.toString(), Integer.toString(DATABASES), Long.toString(firstId),
                    Long.toString(random.nextLong()));
            long maxId = firstId;
            // a kill while opening lands as the child starts opening one of the first half of the databases,
            // whatever the machine's speed: the rest take longer to open than the signal takes to arrive
            int killOpening = duringOpen ? 1 + random.nextInt(DATABASES / 2) : -1;
            boolean open = false;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                long killAt = Long.MAX_VALUE;
                String line;
                while ((line = out.readLine()) != null) {
                    assertThat(line).as("child output").doesNotStartWith("ERROR");
                    String[] parts = line.split(" ");
                    if (line.equals("OPENING " + killOpening)) {
                        child.toHandle().destroyForcibly(); // SIGKILL while the runtime opens its databases
                        break;
                    }
                    if (line.equals("OPEN")) {
                        open = true;
                        killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500 + random.nextInt(2000));
                    } else if (parts[0].equals("WROTE")) {
                        long id = Long.parseLong(parts[2]);
                        written.get(Integer.parseInt(parts[1])).add(id);
                        maxId = Math.max(maxId, id);
                    } else if (parts[0].equals("ACK")) {
                        ackedNow.computeIfAbsent(Integer.parseInt(parts[1]), k -> new HashSet<>())
                                .add(Long.parseLong(parts[2]));
                    }
                    if (System.nanoTime() >= killAt) {
                        child.toHandle().destroyForcibly(); // SIGKILL: no close, no flush
                        break;
                    }
                }
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                child.destroyForcibly();
            }
            whileOpening += open ? 0 : 1;
            nextId = maxId + 1_000;

            // before anything reopens: every acknowledged row of every database is in storage
            for (Map.Entry<Integer, Set<Long>> entry : ackedNow.entrySet()) {
                Path restored = dir.resolve("restored-" + kill + "-" + entry.getKey() + ".db");
                Restore.run(FileSystemStorage.open(storage.resolve(ManyDatabaseWriter.name(entry.getKey()))),
                        restored, RestoreTarget.latest());
                assertThat(ids(restored)).as("acknowledged rows of %s in storage after kill %d",
                        ManyDatabaseWriter.name(entry.getKey()), kill).containsAll(entry.getValue());
                acked += entry.getValue().size();
                Files.delete(restored);
            }

            // the runtime reopens: every row whose write returned is in its file, then in storage
            try (Walship walship = Walship.open(FileSystemStorage.open(storage))) {
                for (int i = 0; i < DATABASES; i++) {
                    Path file = databases.resolve(ManyDatabaseWriter.name(i) + ".db");
                    if (!Files.exists(file)) {
                        assertThat(written.get(i)).isEmpty(); // killed before this one was created
                        continue;
                    }
                    Primary primary = walship.openPrimary(ManyDatabaseWriter.name(i), file,
                            ManyDatabaseWriter.options(i));
                    assertThat(primary.status().health()).isEqualTo(io.walship.Health.RUNNING);
                    primary.flush().get();
                }
            }
            for (int i = 0; i < DATABASES; i++) {
                if (!written.get(i).isEmpty()) {
                    Path file = databases.resolve(ManyDatabaseWriter.name(i) + ".db");
                    assertThat(ids(file)).as("committed rows of db-%d in its file after kill %d", i, kill)
                            .containsAll(written.get(i));
                }
            }
        }
        int rows = 0;
        for (int i = 0; i < DATABASES; i++) {
            if (written.get(i).isEmpty()) {
                continue;
            }
            rows += written.get(i).size();
            Path restored = dir.resolve("final-" + i + ".db");
            Restore.run(FileSystemStorage.open(storage.resolve(ManyDatabaseWriter.name(i))), restored,
                    RestoreTarget.latest());
            assertThat(Rows.fingerprint(restored)).as("db-%d restored equals its file", i)
                    .isEqualTo(Rows.fingerprint(databases.resolve(ManyDatabaseWriter.name(i) + ".db")));
            assertThat(integrity(restored)).isEqualTo("ok");
        }
        log.info("many databases crash kills={} whileOpening={} databases={} writtenRows={} ackedRows={} lost=0",
                KILLS, whileOpening, DATABASES, rows, acked);
        assertThat(rows).as("rows written over all kills").isGreaterThan(100);
        assertThat(acked).as("rows acknowledged before the kills").isGreaterThan(50);
        assertThat(whileOpening).as("kills that landed while the runtime was opening").isPositive();
    }

    private static String integrity(Path db) throws Exception {
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + db);
             Statement s = conn.createStatement();
             ResultSet rs = s.executeQuery("pragma integrity_check")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static Set<Long> ids(Path db) throws Exception {
        Set<Long> ids = new HashSet<>();
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + db);
             Statement s = conn.createStatement();
             ResultSet rs = s.executeQuery("select id from t")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        return ids;
    }
}
