package io.walship.encryption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.compaction.CompactionPolicy;
import io.walship.compaction.Compactor;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.storage.ObjectInfo;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Rows;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A primary that encrypts what it stores: nothing in the clear, exact restores with the keys, refusals without. */
class EncryptedPrimaryTest {
    /** A row value easy to find in a plaintext object (LZ4 keeps literals as they are). */
    private static final String MARKER = "customer-card-4111111111111111";

    @TempDir
    Path dir;

    private final MemoryStorage raw = new MemoryStorage();

    private static byte[] key(int seed) {
        byte[] key = new byte[32];
        new Random(seed).nextBytes(key);
        return key;
    }

    private static Encryption encryption(Object... idsAndKeys) {
        Map<String, byte[]> keys = new LinkedHashMap<>();
        for (int i = 0; i < idsAndKeys.length; i += 2) {
            keys.put((String) idsAndKeys[i], (byte[]) idsAndKeys[i + 1]);
        }
        return Encryption.with(KeyProvider.of(keys));
    }

    private static PrimaryOptions options(Encryption encryption) {
        return PrimaryOptions.durable().toBuilder().encryption(encryption).build();
    }

    private static void write(Primary primary, int rows) throws Exception {
        for (int i = 0; i < rows; i++) {
            primary.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.executeUpdate("create table if not exists t(id integer primary key, v text)");
                    s.executeUpdate("insert into t(v) values ('" + MARKER + "')");
                }
            }).get();
        }
    }

    private void assertNothingInTheClear() {
        byte[] marker = MARKER.getBytes(StandardCharsets.UTF_8);
        for (ObjectInfo object : raw.list("")) {
            byte[] bytes = raw.get(object.key()).orElseThrow();
            assertThat(bytes).as("%s is sealed", object.key()).startsWith(0x57, 0x53, 0x45, 0x43);
            assertThat(new String(bytes, StandardCharsets.ISO_8859_1))
                    .as("%s holds no row in the clear", object.key())
                    .doesNotContain(new String(marker, StandardCharsets.ISO_8859_1));
        }
    }

    @Test
    void everythingStored_isSealed_andRestoresExactlyWithTheKey() throws Exception {
        Encryption encryption = encryption("k1", key(1));
        Path db = dir.resolve("app.db");
        try (Primary primary = Primary.open(raw, db, options(encryption))) {
            write(primary, 30);
            primary.snapshot();
            write(primary, 10);
        }
        new Compactor(encryption.wrap(raw), CompactionPolicy.defaults().withGrace(Duration.ZERO),
                InstantSource.system(), dir).run(); // compacted objects are sealed too
        assertThat(raw.list("")).hasSizeGreaterThan(3);
        assertNothingInTheClear();

        Path copy = dir.resolve("copy.db");
        Restore.run(encryption.wrap(raw), copy, RestoreTarget.latest());
        assertThat(Rows.fingerprint(copy)).isEqualTo(Rows.fingerprint(db));
        Path early = dir.resolve("early.db");
        Restore.run(encryption.wrap(raw), early, RestoreTarget.txid(12));
        assertThat(Rows.queryLong(early, "select count(*) from t")).isEqualTo(12);
    }

    @Test
    void sealedCopiesOfSnapshotsAndSpilledSegments_areGoneAfterUse_andAKilledProcesssAreRemovedAtOpen()
            throws Exception {
        Encryption encryption = encryption("k1", key(1));
        Path db = dir.resolve("app.db");
        PrimaryOptions spilling = options(encryption).toBuilder().captureMemoryBytes(0).build(); // segments in files
        try (Primary primary = Primary.open(raw, db, spilling)) {
            write(primary, 5);
            primary.snapshot();
        }
        Path spill = io.walship.internal.log.SegmentSpill.besideDatabase(db);
        try (var files = java.nio.file.Files.walk(dir)) {
            assertThat(files.map(Path::toString)).as("no sealed copy left").noneMatch(f -> f.endsWith(".sealed"));
        }
        // what a process killed while sealing leaves
        Path snapshotLeftover = dir.resolve("app.db-walship-snapshot-9.sealed");
        java.nio.file.Files.createDirectories(spill);
        Path segmentLeftover = spill.resolve("segment-1.walship-spill.sealed");
        java.nio.file.Files.write(snapshotLeftover, new byte[100]);
        java.nio.file.Files.write(segmentLeftover, new byte[100]);
        try (Primary primary = Primary.open(raw, db, spilling)) {
            assertThat(snapshotLeftover).doesNotExist();
            assertThat(segmentLeftover).doesNotExist();
            write(primary, 1);
        }
    }

    @Test
    void withoutTheKey_restoreAndPrimaryAreRefused_andNothingIsWritten() throws Exception {
        Path db = dir.resolve("app.db");
        try (Primary primary = Primary.open(raw, db, options(encryption("k1", key(1))))) {
            write(primary, 5);
        }
        long objects = raw.list("").size();
        assertThatThrownBy(() -> Restore.run(raw, dir.resolve("copy.db"), RestoreTarget.latest()))
                .isInstanceOfSatisfying(EncryptionException.class, e -> {
                    assertThat(e.kind()).isEqualTo(EncryptionException.Kind.NO_KEY);
                    assertThat(e.keyId()).isEqualTo("k1");
                });
        assertThat(dir.resolve("copy.db")).doesNotExist();
        // the opposite of writing plaintext into an encrypted storage: a primary without keys is refused
        assertThatThrownBy(() -> Primary.open(raw, db, PrimaryOptions.durable()))
                .isInstanceOf(EncryptionException.class);
        assertThatThrownBy(() -> Primary.open(raw, db, options(encryption("k9", key(9)))))
                .isInstanceOfSatisfying(EncryptionException.class,
                        e -> assertThat(e.kind()).isEqualTo(EncryptionException.Kind.UNKNOWN_KEY));
        assertThat(raw.list("")).hasSize((int) objects);
    }

    @Test
    void encryptionGivenTwice_wrappedStorageAndOptions_isRefusedBeforeAnythingIsWritten() throws Exception {
        // sealed twice, the objects would open only through both layers: the CLI, given the keys
        // once, would meet an inner envelope and refuse every object
        Encryption encryption = encryption("k1", key(1));
        Path db = dir.resolve("app.db");
        assertThatThrownBy(() -> Primary.open(encryption.wrap(raw), db, options(encryption)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already encrypted");
        assertThatThrownBy(() -> encryption.wrap(encryption.wrap(raw).under("db")))
                .as("a database's prefix of a wrapped root too").isInstanceOf(IllegalArgumentException.class);
        assertThat(raw.list("")).isEmpty();
        try (Primary primary = Primary.open(encryption.wrap(raw), db, PrimaryOptions.durable())) {
            write(primary, 2); // given once, by wrapping
        }
        assertThat(Restore.run(encryption.wrap(raw), dir.resolve("copy.db"), RestoreTarget.latest()).txid())
                .isPositive();
    }

    @Test
    void rotation_acrossThreeKeys_restoresEveryState_andNeedsTheOldKeysForOldHistory() throws Exception {
        Path db = dir.resolve("app.db");
        byte[] k1 = key(1);
        byte[] k2 = key(2);
        byte[] k3 = key(3);
        try (Primary primary = Primary.open(raw, db, options(encryption("k1", k1)))) {
            write(primary, 5); // txids 1..5
        }
        try (Primary primary = Primary.open(raw, db, options(encryption("k2", k2, "k1", k1)))) {
            write(primary, 5); // 6..10
        }
        Encryption all = encryption("k3", k3, "k2", k2, "k1", k1);
        try (Primary primary = Primary.open(raw, db, options(all))) {
            write(primary, 5); // 11..15
        }
        for (long txid : new long[] {3, 8, 15}) {
            Path copy = dir.resolve("at-" + txid + ".db");
            Restore.run(all.wrap(raw), copy, RestoreTarget.txid(txid));
            assertThat(Rows.queryLong(copy, "select count(*) from t")).as("txid %d", txid).isEqualTo(txid);
        }
        assertThatThrownBy(() -> Restore.run(encryption("k3", k3, "k2", k2).wrap(raw), dir.resolve("no-k1.db"),
                RestoreTarget.txid(3))).isInstanceOfSatisfying(EncryptionException.class, e -> {
                    assertThat(e.kind()).isEqualTo(EncryptionException.Kind.UNKNOWN_KEY);
                    assertThat(e.keyId()).isEqualTo("k1");
                });
    }

    @Test
    void migration_aPlaintextHistoryGoesOnSealed_andReadsWholeOnlyWhilePlaintextIsAllowed() throws Exception {
        Path db = dir.resolve("app.db");
        try (Primary primary = Primary.open(raw, db, PrimaryOptions.durable())) {
            write(primary, 5);
        }
        Encryption encryption = encryption("k1", key(1));
        assertThatThrownBy(() -> Primary.open(raw, db, options(encryption)))
                .isInstanceOfSatisfying(EncryptionException.class,
                        e -> assertThat(e.kind()).isEqualTo(EncryptionException.Kind.PLAINTEXT));
        long plaintextObjects = raw.list("").size();
        try (Primary primary = Primary.open(raw, db, options(encryption.allowingPlaintext()))) {
            write(primary, 5);
        }
        assertThat(raw.list("").stream().filter(o -> raw.get(o.key()).orElseThrow()[0] == 0x57
                && raw.get(o.key()).orElseThrow()[2] == 0x45)).as("sealed objects added").hasSizeGreaterThan(0);
        assertThat(raw.list("")).hasSizeGreaterThan((int) plaintextObjects);
        Path copy = dir.resolve("copy.db");
        Restore.run(encryption.allowingPlaintext().wrap(raw), copy, RestoreTarget.latest());
        assertThat(Rows.fingerprint(copy)).isEqualTo(Rows.fingerprint(db));
        assertThatThrownBy(() -> Restore.run(encryption.wrap(raw), dir.resolve("strict.db"), RestoreTarget.latest()))
                .isInstanceOf(EncryptionException.class);
    }

    @Test
    void theKey_neverAppearsInLogsOrErrors() throws Exception {
        byte[] secret = key(77);
        String base64 = Base64.getEncoder().encodeToString(secret);
        String hex = java.util.HexFormat.of().formatHex(secret);
        PrintStream original = System.err;
        ByteArrayOutputStream logs = new ByteArrayOutputStream();
        System.setErr(new PrintStream(logs, true, StandardCharsets.UTF_8));
        StringBuilder errors = new StringBuilder();
        try {
            Encryption encryption = Encryption.with(KeyProvider.parse("planted:" + base64));
            Path db = dir.resolve("app.db");
            try (Primary primary = Primary.open(raw, db, options(encryption))) {
                write(primary, 3);
                errors.append(primary).append(options(encryption)).append(encryption);
            }
            for (Runnable failing : new Runnable[] {
                () -> Restore.run(raw, dir.resolve("a.db"), RestoreTarget.latest()),
                () -> Restore.run(encryption("other", key(5)).wrap(raw), dir.resolve("b.db"), RestoreTarget.latest()),
                () -> KeyProvider.parse("planted:" + base64.substring(4))}) {
                try {
                    failing.run();
                } catch (RuntimeException e) {
                    java.io.StringWriter trace = new java.io.StringWriter();
                    e.printStackTrace(new java.io.PrintWriter(trace));
                    errors.append(trace);
                }
            }
        } finally {
            System.setErr(original);
        }
        String everything = logs.toString(StandardCharsets.UTF_8) + errors;
        assertThat(everything).contains("planted").doesNotContain(base64).doesNotContain(hex)
                .doesNotContain(base64.substring(4));
    }
}
