package io.walship.replica;

import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.walship.Ack;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.WalshipException;
import io.walship.internal.log.ObjectKey;
import io.walship.storage.ObjectInfo;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Mutations;
import io.walship.testing.Rows;
import io.walship.testing.SqliteCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mutants of the next segment offered to a live replica, one after the other: each poll either
 * applies exactly what the original segment holds or throws a typed {@link WalshipException}
 * with the replica's file and txid untouched. Afterwards the original still applies.
 */
class ReplicaFuzzTest {
    private static final Logger log = LoggerFactory.getLogger(ReplicaFuzzTest.class);
    private static final int CASES = 2000;

    @TempDir
    Path dir;

    @Test
    void poll_mutatedNextSegment_typedErrorAndReplicaUnchanged() throws Exception {
        MemoryStorage source = new MemoryStorage();
        String expectedAfter;
        String key;
        byte[] original;
        try (Primary primary = Primary.open(source, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> {
                exec(conn, "create table t(id integer primary key, note text, body blob)");
                exec(conn, "create index t_note on t(note)");
                for (int i = 0; i < 50; i++) {
                    exec(conn, "insert into t(note, body) values ('n" + i + "', randomblob(" + (i * 97) + "))");
                }
            }).get();
            Ack<Void> last = primary.write(conn -> {
                exec(conn, "update t set note = note || '!' where id % 3 = 0");
                exec(conn, "insert into t(note, body) values ('big', randomblob(9000))");
                exec(conn, "delete from t where id % 7 = 0");
            });
            last.get();
            key = ObjectKey.segment(last.txid());
            original = source.get(key).orElseThrow();
            expectedAfter = primary.read(Rows::fingerprint);
        }
        MemoryStorage storage = new MemoryStorage();
        for (ObjectInfo object : source.list("")) {
            if (!object.key().equals(key)) {
                storage.putIfAbsent(object.key(), source.get(object.key()).orElseThrow());
            }
        }
        Path db = dir.resolve("replica.db");
        Path state = ReplicaState.pathFor(db);
        Path savedDb = dir.resolve("saved.db");
        Path savedState = dir.resolve("saved.state");
        Replica opened = Replica.open(storage, db);
        long before = opened.txid();
        opened.close();
        Files.copy(db, savedDb);
        Files.copy(state, savedState);
        byte[] fileBefore = Files.readAllBytes(db);
        byte[] stateBefore = Files.readAllBytes(state);

        int[] outcome = new int[2]; // rejected, applied
        Replica[] replica = {Replica.open(storage, db)};
        try {
            assertTimeoutPreemptively(Duration.ofMinutes(3), () -> {
                Random random = new Random(20261125);
                for (int i = 0; i < CASES; i++) {
                    byte[] mutant = Mutations.mutate(original, random);
                    storage.delete(key);
                    storage.putIfAbsent(key, mutant);
                    try {
                        replica[0].poll();
                    } catch (WalshipException e) {
                        outcome[0]++;
                    } catch (Throwable t) {
                        throw new AssertionError("case " + i + " threw an untyped " + t, t);
                    }
                    if (replica[0].txid() == before) {
                        assertThat(Files.readAllBytes(db)).as("case %d: file untouched", i).isEqualTo(fileBefore);
                        assertThat(Files.readAllBytes(state)).as("case %d: state untouched", i)
                                .isEqualTo(stateBefore);
                    } else {
                        // the damage missed everything that matters (e.g. a resealed reserved byte)
                        outcome[1]++;
                        String rows = replica[0].read(Rows::fingerprint);
                        assertThat(rows).as("case %d applied", i).isEqualTo(expectedAfter);
                        replica[0].close();
                        Files.copy(savedDb, db, StandardCopyOption.REPLACE_EXISTING);
                        Files.copy(savedState, state, StandardCopyOption.REPLACE_EXISTING);
                        replica[0] = Replica.open(storage, db);
                    }
                }
            });
            storage.delete(key);
            storage.putIfAbsent(key, original);
            assertThat(replica[0].poll()).as("the intact segment applies after every mutant")
                    .isEqualTo(before + 1);
            String rows = replica[0].read(Rows::fingerprint);
            assertThat(rows).isEqualTo(expectedAfter);
        } finally {
            replica[0].close();
        }
        assertThat(SqliteCli.integrityCheck(db)).isEqualTo("ok");
        log.info("replica fuzz cases={} rejected={} appliedIntact={} segmentBytes={}", CASES, outcome[0], outcome[1],
                original.length);
        assertThat(outcome[0]).as("most mutants are rejected").isGreaterThan(CASES / 2);
    }
}
