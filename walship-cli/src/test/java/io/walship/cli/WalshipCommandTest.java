package io.walship.cli;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.StreamServer;
import io.walship.internal.log.ObjectKey;
import io.walship.storage.ForwardingStorage;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.Await;
import io.walship.testing.ChildJvm;
import io.walship.testing.SqliteCli;
import io.walship.testing.Worker;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** The command line as a script sees it: output, error text and exit codes. */
class WalshipCommandTest {
    @TempDir
    Path dir;

    private Path storageDir;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void ship() throws Exception {
        storageDir = dir.resolve("storage");
        try (Primary primary = Primary.open(FileSystemStorage.open(storageDir), dir.resolve("app.db"),
                PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            for (int i = 1; i <= 10; i++) {
                int v = i;
                primary.write(conn -> exec(conn, "insert into t values (" + v + ")")).get();
            }
        }
    }

    private int run(String... args) {
        return WalshipCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    private String url() {
        return "file://" + storageDir;
    }

    @Test
    void restore_latest_writesFileAndExitsZero() throws Exception {
        assertThat(run("restore", url(), "--to", dir.resolve("r.db").toString())).isZero();
        assertThat(out.toString()).contains("txid=11");
        assertThat(queryLong(dir.resolve("r.db"), "select sum(x) from t")).isEqualTo(55);
        assertThat(SqliteCli.integrityCheck(dir.resolve("r.db"))).isEqualTo("ok");
    }

    @Test
    void restore_atTxid_restoresThatState() throws Exception {
        assertThat(run("restore", storageDir.toString(), "--to", dir.resolve("r.db").toString(), "--txid", "4")).isZero();
        assertThat(queryLong(dir.resolve("r.db"), "select sum(x) from t")).isEqualTo(6);
    }

    @Test
    void restore_txidNotInStorage_exitsFour() {
        assertThat(run("restore", url(), "--to", dir.resolve("r.db").toString(), "--txid", "500")).isEqualTo(4);
        assertThat(err.toString()).contains("requested=txid=500").contains("latest=11");
        assertThat(dir.resolve("r.db")).doesNotExist();
    }

    @Test
    void compact_mergesSegments_lsShowsLevels_andRetentionMakesOldTxidsUnavailable() throws Exception {
        try (Primary primary = Primary.open(FileSystemStorage.open(storageDir), dir.resolve("app.db"),
                PrimaryOptions.builder().compaction(null).build())) {
            for (int i = 11; i <= 50; i++) { // one segment each: txid blocks [0,16) [16,32) [32,48) complete
                int v = i;
                primary.write(conn -> exec(conn, "insert into t values (" + v + ")")).get();
            }
        }
        assertThat(run("compact", url(), "--grace", "PT0S")).isZero();
        assertThat(out.toString()).contains("compacted created=3 ");
        assertThat(run("compact", url(), "--grace", "PT0S")).isZero(); // deletes what the first run's objects hold
        assertThat(out.toString()).contains("compacted created=0 ");
        assertThat(run("ls", url())).isZero();
        assertThat(out.toString()).containsPattern("level 1 +3 ").containsPattern("segments +4 +\\d+ +48 +51 ");
        assertThat(run("restore", url(), "--to", dir.resolve("r20.db").toString(), "--txid", "20")).isZero();
        assertThat(queryLong(dir.resolve("r20.db"), "select sum(x) from t")).isEqualTo(190);

        assertThat(run("snapshot", url())).isZero();
        Thread.sleep(20);
        assertThat(run("compact", url(), "--retention", "PT0.001S")).isZero();
        assertThat(out.toString()).containsPattern("expired=[1-9]").contains("earliest restorable txid 51");
        assertThat(run("restore", url(), "--to", dir.resolve("r5.db").toString(), "--txid", "5")).isEqualTo(4);
        assertThat(err.toString()).contains("earliest=51");
        assertThat(run("restore", url(), "--to", dir.resolve("r51.db").toString())).isZero();
        assertThat(queryLong(dir.resolve("r51.db"), "select sum(x) from t")).isEqualTo(50 * 51 / 2);
    }

    @Test
    void sharedRoot_oneDatabaseIsItsPrefix_andTheRootItselfIsRefusedNamingTheDatabases() throws Exception {
        Path root = dir.resolve("tenants");
        try (io.walship.Walship walship = io.walship.Walship.open(FileSystemStorage.open(root))) {
            for (String name : new String[] {"acme", "initech"}) {
                Primary primary = walship.openPrimary(name, dir.resolve(name + ".db"), PrimaryOptions.durable());
                primary.write(conn -> exec(conn, "create table t(x)")).get();
                primary.write(conn -> exec(conn, "insert into t values ('" + name + "')")).get();
            }
        }
        assertThat(run("restore", "file://" + root + "/initech", "--to", dir.resolve("initech-copy.db").toString()))
                .isZero();
        assertThat(io.walship.testing.Rows.queryLong(dir.resolve("initech-copy.db"), "select count(*) from t"))
                .isEqualTo(1);
        assertThat(run("ls", "file://" + root + "/acme")).isZero();
        assertThat(out.toString()).contains("restorable txids 0..2");

        assertThat(run("ls", "file://" + root)).isEqualTo(4);
        assertThat(out.toString()).contains("shared root of 2 databases (acme, initech)")
                .contains("file://" + root + "/acme");
        assertThat(run("restore", "file://" + root, "--to", dir.resolve("root.db").toString())).isEqualTo(4);
        assertThat(err.toString()).contains("shared root of 2 databases (acme, initech)");
        assertThat(dir.resolve("root.db")).doesNotExist();
        err.getBuffer().setLength(0);
        assertThat(run("verify", "file://" + root)).isEqualTo(4);
        assertThat(err.toString()).contains("verify failed").contains("shared root of 2 databases (acme, initech)");
        err.getBuffer().setLength(0);
        assertThat(run("compact", "file://" + root, "--grace", "PT0S", "--retention", "PT0.001S")).isEqualTo(4);
        assertThat(err.toString()).contains("nothing to compact here").contains("shared root of 2 databases");
        assertThat(run("ls", "file://" + root + "/acme")).isZero(); // untouched
    }

    @Test
    void encryptedStorage_needsItsKeys_fromAFileOrTheEnvironment_andTheyAreNeverPrinted() throws Exception {
        byte[] key = new byte[32];
        new java.util.Random(3).nextBytes(key);
        String base64 = java.util.Base64.getEncoder().encodeToString(key);
        Path keys = dir.resolve("keys");
        java.nio.file.Files.writeString(keys, "k1:" + base64 + "\n");
        Path encrypted = dir.resolve("encrypted");
        io.walship.encryption.Encryption encryption = io.walship.encryption.Encryption.with(
                io.walship.encryption.KeyProvider.fromFile(keys));
        try (Primary primary = Primary.open(FileSystemStorage.open(encrypted), dir.resolve("secret.db"),
                PrimaryOptions.durable().toBuilder().encryption(encryption).build())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            primary.write(conn -> exec(conn, "insert into t values (42)")).get();
        }
        String url = "file://" + encrypted;
        assertThat(run("restore", url, "--to", dir.resolve("no-keys.db").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("object is encrypted and no key was given").contains("keyId=k1");
        assertThat(dir.resolve("no-keys.db")).doesNotExist();
        assertThat(run("restore", url, "--to", dir.resolve("r.db").toString(), "--keys-file", keys.toString()))
                .isZero();
        assertThat(io.walship.testing.Rows.queryLong(dir.resolve("r.db"), "select x from t")).isEqualTo(42);
        assertThat(run("verify", url, "--keys-file", keys.toString())).isZero();
        assertThat(run("ls", url, "--keys-file", keys.toString())).isZero();
        assertThat(run("snapshot", url, "--keys-file", keys.toString())).isZero();
        assertThat(run("verify", url, "--keys-file", keys.toString())).isZero();
        java.nio.file.Files.writeString(keys, "k1:" + base64.substring(3));
        assertThat(run("ls", url, "--keys-file", keys.toString())).isEqualTo(2);
        assertThat(out.toString() + err).doesNotContain(base64).doesNotContain(base64.substring(3));
    }

    @Test
    void restore_existingTarget_exitsSixAndKeepsFile() throws Exception {
        Files.writeString(dir.resolve("r.db"), "mine");
        assertThat(run("restore", url(), "--to", dir.resolve("r.db").toString())).isEqualTo(6);
        assertThat(Files.readString(dir.resolve("r.db"))).isEqualTo("mine");
    }

    @Test
    void restore_txidAndTimeTogether_isUsageError() {
        assertThat(run("restore", url(), "--to", "x.db", "--txid", "1", "--time", "2026-01-01T00:00:00Z"))
                .isEqualTo(2);
    }

    @Test
    void anyCommand_unknownScheme_isUsageErrorNamingSchemes() {
        assertThat(run("ls", "ftp://user:secret@host/x")).isEqualTo(2);
        assertThat(err.toString()).contains("supported: file://").doesNotContain("secret");
    }

    @Test
    void ls_byDefault_summarizesEachKindWithItsTxidRange() {
        assertThat(run("ls", url())).isZero();
        assertThat(out.toString()).containsPattern("snapshots +1 +\\d+ +0 +0 ")
                .containsPattern("segments +11 +\\d+ +1 +11 ")
                .contains("1 snapshots, 11 log objects").contains("latest txid 11, earliest restorable txid 0")
                .doesNotContain("segment   ");
    }

    @Test
    void ls_verbose_listsEveryObjectWithTheNewestSegmentsLastTxid() {
        assertThat(run("ls", url(), "-v")).isZero();
        assertThat(out.toString()).containsPattern("segment +11 +11 ").doesNotContain(" ? ")
                .containsPattern("snapshot +0 +0 ").contains("1 snapshots, 11 log objects, ");
    }

    @Test
    void ls_headers_readsEveryObject() {
        assertThat(run("ls", url(), "--headers")).isZero();
        assertThat(out.toString()).contains("txns=1 raw=").contains("pages=");
    }

    @Test
    void verify_intactHistory_printsOk() {
        assertThat(run("verify", url())).isZero();
        assertThat(out.toString()).contains("transactions=11").contains("ok");
    }

    @Test
    void verify_damagedSegment_exitsThreeNamingIt() throws Exception {
        Path segment = storageDir.resolve(ObjectKey.segment(5));
        byte[] bytes = Files.readAllBytes(segment);
        bytes[bytes.length / 2] ^= 1;
        Files.write(segment, bytes);

        assertThat(run("verify", url())).isEqualTo(3);
        assertThat(err.toString()).contains("key=log/0000000000000005");
        assertThat(out.toString()).as("segments before the bad one").contains("segments=4");
    }

    @Test
    void verify_missingSegment_exitsThreeWithGap() throws Exception {
        Files.delete(storageDir.resolve(ObjectKey.segment(7)));
        assertThat(run("verify", url())).isEqualTo(3);
        assertThat(err.toString()).contains("txid gap").contains("expected=7");
    }

    @Test
    void snapshot_buildsSnapshotThatRestoresAndVerifies() throws Exception {
        assertThat(run("snapshot", url())).isZero();
        assertThat(out.toString()).contains("snapshot txid=11").contains("stored");
        assertThat(storageDir.resolve(ObjectKey.snapshot(11))).exists();
        assertThat(run("snapshot", url())).isZero();
        assertThat(out.toString()).contains("already in storage");
        assertThat(run("verify", url())).isZero();
        assertThat(out.toString()).contains("snapshots=2");
    }

    @Test
    void follow_once_createsReplicaAtLatest() throws Exception {
        assertThat(run("follow", url(), "--db", dir.resolve("f.db").toString(), "--once")).isZero();
        assertThat(out.toString()).contains("txid=11");
        assertThat(queryLong(dir.resolve("f.db"), "select sum(x) from t")).isEqualTo(55);
    }

    @Test
    void follow_untilTxid_exitsOnceReached() throws Exception {
        try (Primary primary = Primary.open(FileSystemStorage.open(storageDir), dir.resolve("app.db"),
                PrimaryOptions.durable())) {
            Worker writer = Worker.start("writer", () -> {
                for (int i = 0; i < 5; i++) {
                    primary.write(conn -> exec(conn, "insert into t values (100)")).get();
                }
            });
            assertThat(run("follow", url(), "--db", dir.resolve("f.db").toString(), "--until-txid", "16",
                    "--interval", "PT0.005S")).isZero();
            writer.join(java.time.Duration.ofSeconds(30));
        }
        assertThat(out.toString()).contains("replica " + dir.resolve("f.db") + " txid=16");
    }

    /**
     * The primary cannot store (its PUTs fail) and the replica polls every ten minutes: only the
     * stream, applied before the store, brings the five writes.
     */
    @Test
    void follow_streamApplyingUnstored_getsWritesStorageDoesNotHold_tokenReadFromAFile() throws Exception {
        Storage refusing = new ForwardingStorage(FileSystemStorage.open(storageDir)) {
            @Override
            public PutResult putIfAbsent(String key, byte[] content) {
                throw new StorageException("put", key, true, "storage unreachable (test)", null);
            }
        };
        Path tokenFile = Files.writeString(dir.resolve("token"), "s3cret\n");
        try (Primary primary = Primary.open(refusing, dir.resolve("app.db"), PrimaryOptions.async().toBuilder()
                .closeTimeout(Duration.ofMillis(100)).build());
             StreamServer stream = primary.serveStream(new InetSocketAddress("localhost", 0), "s3cret")) {
            Worker writer = Worker.start("writer", () -> {
                Await.until("the stream serves the replica", Duration.ofSeconds(30), () -> stream.clients() == 1);
                for (int i = 0; i < 5; i++) {
                    primary.write(conn -> exec(conn, "insert into t values (1000)"));
                }
            });
            assertThat(run("follow", url(), "--db", dir.resolve("f.db").toString(), "--until-txid", "16",
                    "--interval", "PT10M", "--stream", stream.uri().toString(), "--stream-token-file",
                    tokenFile.toString(), "--apply-unstored")).as(err.toString()).isZero();
            writer.join(Duration.ofSeconds(30));
            assertThat(primary.storedTxid()).as("storage holds none of them").isEqualTo(11);
        }
        assertThat(out.toString()).contains("replica " + dir.resolve("f.db") + " txid=16");
        assertThat(queryLong(dir.resolve("f.db"), "select count(*) from t where x = 1000")).as("kept on close")
                .isEqualTo(5);
    }

    @Test
    void follow_streamWithoutAToken_exitsTwoNamingWhereTheTokenGoes() {
        assertThat(run("follow", url(), "--db", dir.resolve("f.db").toString(), "--once",
                "--stream", "walship://localhost:7070")).isEqualTo(2);
        assertThat(err.toString()).contains("--stream-token-file").contains("WALSHIP_STREAM_TOKEN");
        assertThat(run("follow", url(), "--db", dir.resolve("g.db").toString(), "--once", "--apply-unstored"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("applyUnstored needs a stream");
    }

    @Test
    void status_freshStorage_printsLatestTxidAgesAndCountsAndExitsZero() {
        assertThat(run("status", url(), "--max-age", "PT1H")).isZero();
        assertThat(out.toString()).contains("latest txid 11, committed").contains("in log/")
                .contains("newest snapshot txid 0").containsPattern("objects 1 snapshots \\(\\d+ bytes\\), \\d+ log objects")
                .contains("earliest restorable txid 0");
    }

    @Test
    void status_nothingStoredForLongerThanMaxAge_exitsSevenSayingStale() throws Exception {
        FileTime dayAgo = FileTime.from(Instant.now().minus(Duration.ofDays(1)));
        try (Stream<Path> files = Files.walk(storageDir)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Files.setLastModifiedTime(file, dayAgo);
            }
        }
        assertThat(run("status", url(), "--max-age", "PT5M")).isEqualTo(7);
        assertThat(out.toString()).contains("STALE: nothing stored for 1d00h, more than --max-age PT5M");
        assertThat(run("status", url())).as("without --max-age only reports").isZero();
    }

    @Test
    void status_emptyStorage_exitsFour() throws Exception {
        Files.createDirectories(dir.resolve("empty"));
        assertThat(run("status", dir.resolve("empty").toString())).isEqualTo(4);
        assertThat(out.toString()).contains("no snapshot");
    }

    // ---------------------------------------------------------------- operator mistakes cost nothing

    /** Regression: s3:/bucket made a local directory, file://relative/path wrote at the filesystem root. */
    @Test
    void storageUrlThatIsNotOne_isUsageError_andCreatesNothing() throws Exception {
        for (String bad : List.of("s3:/bucket", "s3:bucket/prefix", "file://relative/path", "file:relative",
                "file:///")) {
            assertThat(run("ls", bad)).as(bad).isEqualTo(2);
        }
        assertThat(err.toString()).contains("a URL needs '://'").contains("names a host ('relative')")
                .contains("needs an absolute directory path");
        assertThat(Path.of("s3:")).doesNotExist();
        assertThat(Path.of("/path")).doesNotExist();
    }

    /** Regression: every command mkdir -p'ed a mistyped storage path, and ls/compact exited 0 on it. */
    @Test
    void everyCommandOnAMissingStorage_exitsFourNamingIt_andCreatesNothing() {
        Path missing = dir.resolve("no-such-storage");
        String[][] commands = {{"ls", missing.toString()}, {"status", missing.toString()},
                {"verify", missing.toString()}, {"compact", missing.toString()}, {"snapshot", missing.toString()},
                {"restore", missing.toString(), "--to", dir.resolve("r.db").toString()},
                {"follow", "file://" + missing, "--db", dir.resolve("f.db").toString(), "--once"}};
        for (String[] command : commands) {
            assertThat(run(command)).as(String.join(" ", command)).isEqualTo(4);
        }
        assertThat(err.toString()).contains("no such directory: " + missing).doesNotContain("Exception");
        assertThat(missing).doesNotExist();
        assertThat(dir.resolve("r.db")).doesNotExist();
        assertThat(dir.resolve("f.db")).doesNotExist();
    }

    /** Regression: with a segment lost, compact exited 0 and expired snapshots past the hole; ls said "earliest 0". */
    @Test
    void storageWithAHole_compactLsAndStatusSayWhereAndExitThree_andNothingIsDeleted() throws Exception {
        Files.delete(storageDir.resolve(ObjectKey.segment(7)));
        long objects;
        try (Stream<Path> files = Files.walk(storageDir)) {
            objects = files.filter(Files::isRegularFile).count();
        }

        assertThat(run("compact", url(), "--retention", "PT0.001S", "--grace", "PT0S")).isEqualTo(3);
        assertThat(err.toString()).contains("HOLE: txids 7..11 cannot be restored");
        assertThat(storageDir.resolve(ObjectKey.snapshot(0))).exists();
        assertThat(run("ls", url())).isEqualTo(3);
        assertThat(out.toString()).contains("restorable txids 0..6").contains("HOLE txids 7..11");
        assertThat(run("status", url())).isEqualTo(3);
        assertThat(out.toString()).contains("earliest restorable txid 0").contains("DAMAGED: 1 hole");
        try (Stream<Path> files = Files.walk(storageDir)) {
            assertThat(files.filter(Files::isRegularFile).count()).as("nothing deleted").isGreaterThanOrEqualTo(objects);
        }
    }

    @Test
    void restore_damagedNewestSnapshot_restoresFromTheOlderOneAndSaysSo() throws Exception {
        assertThat(run("snapshot", url())).isZero(); // snapshots/...0b, at txid 11
        Path newest = storageDir.resolve(ObjectKey.snapshot(11));
        byte[] bytes = Files.readAllBytes(newest);
        bytes[bytes.length - 20] ^= 0x04;
        Files.write(newest, bytes);

        assertThat(run("restore", url(), "--to", dir.resolve("r.db").toString())).isZero();
        assertThat(err.toString()).contains("passed over a damaged snapshot").contains(ObjectKey.snapshot(11))
                .contains("restored from the older snapshot at txid 0");
        assertThat(queryLong(dir.resolve("r.db"), "select sum(x) from t")).isEqualTo(55);
    }

    /** Regression: follow --db on the primary's own file moved it aside without its WAL and exited 0. */
    @Test
    void follow_onThePrimarysDatabase_exitsSixAndTouchesNothing_evenWithReplace() throws Exception {
        Path app = dir.resolve("app.db");
        byte[] before = Files.readAllBytes(app);
        for (String[] extra : List.of(new String[0], new String[] {"--replace"})) {
            String[] args = Stream.concat(Stream.of("follow", url(), "--db", app.toString(), "--once"),
                    Stream.of(extra)).toArray(String[]::new);
            assertThat(run(args)).isEqualTo(6);
        }
        assertThat(err.toString()).contains("walship primary's database").contains("nothing was changed");
        assertThat(Files.readAllBytes(app)).isEqualTo(before);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("diverged"));
        }
    }

    @Test
    void follow_onAPlainDatabase_exitsSix_andReplaceMovesItAside() throws Exception {
        Path plain = dir.resolve("plain.db");
        SqliteCli.run(plain, "create table mine(y); insert into mine values (42);");
        byte[] before = Files.readAllBytes(plain);

        assertThat(run("follow", url(), "--db", plain.toString(), "--once")).isEqualTo(6);
        assertThat(err.toString()).contains("not a walship replica").contains("--replace");
        assertThat(Files.readAllBytes(plain)).isEqualTo(before);

        assertThat(run("follow", url(), "--db", plain.toString(), "--once", "--replace")).isZero();
        assertThat(queryLong(plain, "select sum(x) from t")).isEqualTo(55);
        try (Stream<Path> files = Files.list(dir)) {
            Path aside = files.filter(p -> p.getFileName().toString().startsWith("plain.db.diverged-")).findFirst()
                    .orElseThrow();
            assertThat(Files.readAllBytes(aside)).isEqualTo(before);
        }
    }

    /** Regression: a stream that could never work (refused, wrong token) logged and ran on forever. */
    @Test
    void follow_streamThatNeverWorks_exitsEightNamingWhy_unlessOptional() throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("token"), "wrong");
        int closedPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        assertThat(run("follow", url(), "--db", dir.resolve("f.db").toString(), "--stream",
                "walship://localhost:" + closedPort, "--stream-token-file", tokenFile.toString(),
                "--stream-timeout", "PT1S")).isEqualTo(8);
        assertThat(err.toString()).contains("has failed for PT1S").contains("Connection refused");

        try (Primary primary = Primary.open(FileSystemStorage.open(storageDir), dir.resolve("app.db"),
                PrimaryOptions.durable());
             StreamServer stream = primary.serveStream(new InetSocketAddress("localhost", 0), "right")) {
            assertThat(run("follow", url(), "--db", dir.resolve("f.db").toString(), "--stream",
                    stream.uri().toString(), "--stream-token-file", tokenFile.toString(), "--stream-timeout", "PT1S"))
                    .isEqualTo(8);
            assertThat(err.toString()).contains("refused by the primary: wrong or missing token");

            Worker writer = Worker.start("writer", () -> {
                Thread.sleep(2_000); // past the stream timeout: only --stream-optional is still following
                primary.write(conn -> exec(conn, "insert into t values (100)")).get();
            });
            assertThat(run("follow", url(), "--db", dir.resolve("f.db").toString(), "--stream",
                    stream.uri().toString(), "--stream-token-file", tokenFile.toString(), "--stream-timeout", "PT1S",
                    "--stream-optional", "--until-txid", "12", "--interval", "PT0.01S")).isZero();
            writer.join(Duration.ofSeconds(30));
        }
    }

    /** Regression: port 99999 killed the stream thread with a raw stack trace. */
    @Test
    void follow_streamPortOutOfRange_isUsageError() throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("token"), "t");
        assertThat(run("follow", url(), "--db", dir.resolve("f.db").toString(), "--once", "--stream",
                "walship://localhost:99999", "--stream-token-file", tokenFile.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("port from 1 to 65535").doesNotContain("\tat ");
    }

    @Test
    void follow_sigterm_closesCleanlyAndExitsZero_servingMetricsMeanwhile() throws Exception {
        followServesMetricsAndStopsCleanly(List.of(), Map.of(), "follow", url(), "--db",
                dir.resolve("replica.db").toString(), "--metrics-port", "0");
    }

    /**
     * The documented systemd unit's command line, with the documented environment file (its storage
     * and database moved to this test's directory): the replica follows, serves metrics, stops on
     * SIGTERM with 0. The container recipe runs the same command with the same variables.
     */
    @Test
    void deployedService_unitFileCommandLineWithItsEnvironment_followsAndStopsCleanly() throws Exception {
        Path deploy = Path.of("..", "deploy");
        String execStart = Files.readAllLines(deploy.resolve("walship-follow.service")).stream()
                .filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow().substring("ExecStart=".length());
        List<String> command = List.of(execStart.trim().split("\\s+"));
        assertThat(command.get(0)).endsWith("/bin/walship");
        Map<String, String> environment = new LinkedHashMap<>();
        for (String line : Files.readAllLines(deploy.resolve("follow.env"))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                environment.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
            }
        }
        assertThat(environment).containsKeys("WALSHIP_STORAGE", "WALSHIP_DB", "WALSHIP_METRICS_PORT", "JAVA_OPTS");
        String dockerfile = Files.readString(deploy.resolve("Dockerfile"));
        assertThat(dockerfile).contains("ENTRYPOINT [\"" + String.join("\", \"", command) + "\"]");

        environment.put("WALSHIP_STORAGE", url());
        environment.put("WALSHIP_DB", dir.resolve("replica.db").toString());
        environment.put("WALSHIP_METRICS_PORT", "0");
        List<String> jvmOptions = List.of(environment.remove("JAVA_OPTS").split("\\s+")); // as bin/walship passes them
        followServesMetricsAndStopsCleanly(jvmOptions, environment,
                command.subList(1, command.size()).toArray(String[]::new));
    }

    private void followServesMetricsAndStopsCleanly(List<String> jvmOptions, Map<String, String> environment,
                                                    String... args) throws Exception {
        Path output = dir.resolve("follow.out");
        Process follow = ChildJvm.start(ProcessBuilder.Redirect.to(output.toFile()), jvmOptions, environment,
                "io.walship.cli.WalshipCommand", args);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(output).contains("from txid=11")) {
                assertThat(follow.isAlive()).as(Files.readString(output)).isTrue();
                assertThat(System.nanoTime()).as("follow started within 30 s").isLessThan(deadline);
                Thread.sleep(20);
            }
            String first = Files.readAllLines(output).get(0);
            assertThat(first).startsWith("metrics at http://localhost:");
            HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(first.substring("metrics at ".length()))).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(scrape.statusCode()).isEqualTo(200);
            assertThat(scrape.headers().firstValue("Content-Type")).get().asString().startsWith("text/plain");
            assertThat(scrape.body()).contains("walship_replica_txid{db=\"replica.db\"} 11.0")
                    .contains("walship_storage_requests_seconds_count{db=\"replica.db\",operation=\"open\"");

            follow.destroy(); // SIGTERM

            assertThat(follow.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(follow.exitValue()).isZero();
            assertThat(Files.readString(output)).endsWith("replica " + dir.resolve("replica.db") + " txid=11\n");
        } finally {
            follow.destroyForcibly();
        }
        try (var replica = io.walship.replica.Replica.open(FileSystemStorage.open(storageDir),
                dir.resolve("replica.db"))) {
            assertThat(replica.txid()).isEqualTo(11);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"restore", "follow", "ls", "verify", "snapshot", "status", "compact"})
    void everyCommand_helpAndH_printUsageAndExitZero_evenWithoutItsRequiredArguments(String command) {
        for (String[] args : List.of(new String[] {command, "--help"}, new String[] {command, "-h"},
                new String[] {"help", command})) {
            out.getBuffer().setLength(0);
            assertThat(run(args)).as(String.join(" ", args)).isZero();
            assertThat(out.toString()).startsWith("Usage: walship " + command).contains("STORAGE");
            assertThat(err.toString()).isEmpty();
        }
    }

    @Test
    void commandCalledByName_isTheOnlyOneBuilt_anythingElseGetsEveryCommand() {
        assertThat(WalshipCommand.commandLine(new WalshipCommand(), "ls", url()).getSubcommands().keySet())
                .containsExactly("ls");
        for (String[] args : List.of(new String[0], new String[] {"--debug", "ls"}, new String[] {"help", "ls"},
                new String[] {"lss"}, new String[] {"--version"})) {
            assertThat(WalshipCommand.commandLine(new WalshipCommand(), args).getSubcommands().keySet())
                    .as(String.join(" ", args)).containsExactlyElementsOf(WalshipCommand.COMMANDS.keySet());
        }
    }

    @Test
    void everyCommand_isRegisteredUnderItsOwnName() {
        WalshipCommand.COMMANDS.forEach((name, command) ->
                assertThat(new CommandLine(command.get()).getCommandName()).isEqualTo(name));
    }

    @Test
    void mistypedCommand_isUsageErrorSuggestingTheRightOne() {
        assertThat(run("lss", url())).isEqualTo(2);
        assertThat(err.toString()).contains("lss").contains("ls");
    }

    @Test
    void bareWalship_printsUsageOnStderrAndExitsTwo() {
        assertThat(run()).isEqualTo(2);
        assertThat(err.toString()).contains("a command is missing").contains("Usage: walship")
                .contains("restore").contains("follow");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void restore_toAMissingDirectory_isOneLineUsageErrorNamingIt_andReadsNoStorage() {
        Path missing = dir.resolve("no-such-dir");

        assertThat(run("restore", dir.resolve("no-storage").toString(), "--to", missing.resolve("r.db").toString()))
                .isEqualTo(2);

        assertThat(err.toString().strip()).isEqualTo("walship: the directory of --to does not exist: " + missing
                + " (create it, or give another path)");
        assertThat(missing).doesNotExist();
    }

    @Test
    void follow_dbInAMissingDirectory_isOneLineUsageError() {
        assertThat(run("follow", url(), "--db", dir.resolve("nope/replica.db").toString(), "--once")).isEqualTo(2);
        assertThat(err.toString().strip()).startsWith("walship: the directory of --db does not exist: ")
                .doesNotContain("\n");
    }

    @Test
    void errors_areWordsWithoutJavaTypes_andDebugAddsTheStackTrace() throws Exception {
        Files.writeString(dir.resolve("r.db"), "taken");
        assertThat(run("restore", url(), "--to", dir.resolve("r.db").toString())).isEqualTo(6);
        String plain = err.toString();
        assertThat(plain.lines()).hasSize(1);
        assertThat(plain).startsWith("walship: ").doesNotContain("Exception").doesNotContain("\tat ")
                .contains(dir.resolve("r.db").toString());

        err.getBuffer().setLength(0);
        assertThat(run("restore", url(), "--to", dir.resolve("r.db").toString(), "--debug")).isEqualTo(6);
        assertThat(err.toString()).startsWith(plain.strip()).contains("Exception").contains("\tat ");
    }

    @Test
    void errorMessage_dropsQualifiedTypeNamesAndNamesFileProblemsInWords() {
        assertThat(ErrorMessage.of(new IllegalStateException(
                "replica failed: error=java.io.IOException: No space left on device (free the disk)")))
                .isEqualTo("replica failed: error=No space left on device (free the disk)");
        assertThat(ErrorMessage.of(new UncheckedIOException(new NoSuchFileException("/a/b"))))
                .isEqualTo("no such file or directory: /a/b");
        assertThat(ErrorMessage.of(new AccessDeniedException("/srv/r.db")))
                .isEqualTo("permission denied: /srv/r.db");
        assertThat(ErrorMessage.of(new NullPointerException())).isEqualTo("unexpected failure");
    }
}
