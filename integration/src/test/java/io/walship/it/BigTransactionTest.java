package io.walship.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.walship.storage.s3.S3ProxyServer;
import io.walship.testing.ChildJvm;
import io.walship.testing.Heavy;
import io.walship.testing.SqliteCli;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transactions far larger than the heap: a primary, a following replica and a restore, each in
 * a JVM capped at {@value #HEAP}, carry a 1 GiB single transaction (a bulk insert) and a VACUUM
 * of the resulting 1 GiB database, over a directory and over S3 (multipart), and survive kill -9
 * in the middle of each stage. Capture once read a whole transaction into the heap: a 400 MB
 * insert on -Xmx128m stopped the primary with OutOfMemoryError.
 *
 * <p>The size is {@code -Dwalship.bigTxnMiB} (default 1024).
 */
@Heavy
class BigTransactionTest {
    private static final Logger log = LoggerFactory.getLogger(BigTransactionTest.class);
    private static final String HEAP = "-Xmx96m";
    private static final int MIB = Integer.getInteger("walship.bigTxnMiB", 1024);
    private static final Duration STEP = Duration.ofMinutes(5);

    @RegisterExtension
    static final S3ProxyServer server = S3ProxyServer.onDisk();

    @TempDir
    Path dir;

    @Test
    void oneGibInsertAndVacuum_onSmallHeaps_restoredByteIdenticalAndReadersNeverSeeHalf() throws Exception {
        String storage = "file:" + dir.resolve("storage");
        assertWholeJourney(storage, Map.of(), "file://" + dir.resolve("storage"), List.of());
    }

    @Test
    void oneGibInsertAndVacuum_overS3Multipart_restoredByteIdenticalAndReadersNeverSeeHalf() throws Exception {
        String bucket = server.createBucket();
        assertWholeJourney("s3:" + server.endpoint() + "|" + bucket, credentials(), "s3://" + bucket,
                List.of("--endpoint", server.endpoint().toString(), "--path-style"));
        try (var client = server.client()) {
            var segments = client.listObjectsV2(r -> r.bucket(bucket).prefix("log/")).contents();
            assertThat(segments).as("the fill and the VACUUM stored as objects of over 64 MiB, in parts")
                    .filteredOn(o -> o.size() > 64L << 20).hasSizeGreaterThanOrEqualTo(MIB >= 256 ? 2 : 0);
            assertThat(client.listMultipartUploads(r -> r.bucket(bucket)).uploads()).as("no upload left open")
                    .isEmpty();
        }
    }

    @Test
    void killedDuringCaptureUploadAndReplicaApply_losesNothingAckedAndLeavesNothingTorn() throws Exception {
        String storage = "file:" + dir.resolve("storage");
        Path db = dir.resolve("app.db");
        Path replica = dir.resolve("replica.db");
        long rows = BigTransaction.rows(MIB);
        // 1. the primary dies while capture streams the committed fill into a spill file
        try (Child writer = Child.start(Map.of(), "write", storage, db.toString(), Integer.toString(MIB),
                "setup,fill")) {
            writer.await("ACKED setup 1");
            writer.awaitWhileAlive(() -> anyFile(dir.resolve("app.db-walship.spill"), 1), "a capture spill file");
            writer.kill();
        }
        try (Child follower = Child.start(Map.of(), "follow", storage, replica.toString(), "4")) {
            follower.await("OPENED 1");
            try (Child reopened = Child.start(Map.of(), "write", storage, db.toString(), "0")) {
                assertThat(reopened.await("OPENED")).as("the fill SQLite committed is resumed, not rebuilt")
                        .isEqualTo("OPENED RESUMED 2");
                reopened.await("FLUSHED 2");
                reopened.await("CLOSED");
            }
            // 2. the replica dies while it writes the fill's pages into its file
            follower.awaitWhileAlive(() -> size(replica) > ((long) MIB << 20) / 4, "the replica writing the fill");
            follower.kill();
        }
        try (Child follower = Child.start(Map.of(), "follow", storage, replica.toString(), "4")) {
            // 3. the primary dies while it uploads the VACUUM (or the snapshot before it)
            try (Child writer = Child.start(Map.of(), "write", storage, db.toString(), Integer.toString(MIB),
                    "thin,vacuum")) {
                writer.await("ACKED thin 3");
                writer.awaitWhileAlive(() -> anyFile(dir.resolve("storage").resolve(".tmp"), 1 << 20),
                        "an upload in progress");
                writer.kill();
            }
            try (Child reopened = Child.start(Map.of(), "write", storage, db.toString(), "0")) {
                assertThat(reopened.await("OPENED")).as("resumed, or caught up if only the snapshot was cut short")
                        .matches("OPENED (RESUMED|CAUGHT_UP) 4");
                reopened.await("FLUSHED 4");
                reopened.await("CLOSED");
            }
            String followed = follower.await("FOLLOWED 4");
            assertThat(followed).as("readers of the replica after its kill").endsWith("violation null");
        }
        assertThat(SqliteCli.run(db, "select count(*), (select n from meta) from t").trim())
                .isEqualTo((rows - rows / 10) + "|" + (rows - rows / 10));
        Path restored = dir.resolve("restored.db");
        try (Child restore = Child.cli(Map.of(), "restore", "file://" + dir.resolve("storage"), "--to",
                restored.toString(), "--no-progress")) {
            assertThat(restore.exitCode()).isZero();
        }
        assertThat(Files.mismatch(restored, db)).as("restored file against the primary's").isEqualTo(-1L);
        assertSameRows(replica, db);
    }

    @Test
    void transactionOver2GiB_isCapturedRestoredAndFollowed() throws Exception {
        String storage = "file:" + dir.resolve("storage");
        Path db = dir.resolve("app.db");
        Path replica = dir.resolve("replica.db");
        SqliteCli.run(db, "pragma page_size=65536; pragma journal_mode=wal; create table t(id integer primary key,"
                + " b blob); create table meta(n integer); insert into meta values (0);");
        try (Child writer = Child.start(Map.of(), "write", storage, db.toString(), "0", "huge")) {
            writer.await("OPENED");
            try (Child follower = Child.start(Map.of(), "follow", storage, replica.toString(), "1")) {
                writer.await("ACKED huge 1");
                writer.await("CLOSED");
                assertThat(follower.await("FOLLOWED 1")).endsWith("violation null");
            }
        }
        assertThat(Files.size(db)).as("a database past 2 GiB").isGreaterThan(1L << 31);
        Path restored = dir.resolve("restored.db");
        try (Child restore = Child.cli(Map.of(), "restore", "file://" + dir.resolve("storage"), "--to",
                restored.toString(), "--no-progress")) {
            assertThat(restore.exitCode()).isZero();
        }
        assertThat(Files.mismatch(restored, db)).as("restored file against the primary's").isEqualTo(-1L);
        String rows = "select count(*), sum(length(b)), sum(b = zeroblob(800000000)), (select n from meta) from t";
        assertThat(SqliteCli.run(replica, rows).trim()).isEqualTo("3|2400000000|3|3");
        assertThat(SqliteCli.run(replica, "pragma quick_check").trim()).isEqualTo("ok");
    }

    /** Whether {@code directory} holds a file of at least {@code bytes}. */
    private static boolean anyFile(Path directory, long bytes) {
        try (Stream<Path> files = Files.list(directory)) {
            return files.anyMatch(f -> size(f) >= bytes);
        } catch (IOException e) {
            return false; // not created yet
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0; // not there (yet, or any more)
        }
    }

    private void assertWholeJourney(String storage, Map<String, String> env, String url, List<String> cliOptions)
            throws Exception {
        Path db = dir.resolve("app.db");
        Path replica = dir.resolve("replica.db");
        try (Child writer = Child.start(env, "write", storage, db.toString(), Integer.toString(MIB),
                "setup,fill,thin,vacuum")) {
            writer.await("ACKED setup 1");
            try (Child follower = Child.start(env, "follow", storage, replica.toString(), "4")) {
                writer.await("ACKED fill 2");
                writer.await("ACKED vacuum 4");
                writer.await("CLOSED");
                String followed = follower.await("FOLLOWED 4");
                log.info("follower: {}", followed);
                assertThat(followed).as("readers of the replica").endsWith("violation null");
                assertThat(readsOf(followed)).as("reads during the apply").isPositive();
            }
        }
        assertThat(SqliteCli.run(db, "select count(*) = (select n from meta) from t").trim()).isEqualTo("1");
        Path restored = dir.resolve("restored.db");
        try (Child restore = Child.cli(env, Stream.concat(Stream.of("restore", url, "--to", restored.toString(),
                "--no-progress"), cliOptions.stream()).toArray(String[]::new))) {
            assertThat(restore.exitCode()).as("walship restore on " + HEAP).isZero();
        }
        assertThat(Files.mismatch(restored, db)).as("restored file against the primary's").isEqualTo(-1L);
        assertSameRows(replica, db);
    }

    private static long readsOf(String followed) {
        String[] words = followed.split(" ");
        return Long.parseLong(words[3]);
    }

    /** Every row the same (hashed by sqlite3, independently of walship) and the file sound. */
    private static void assertSameRows(Path copy, Path db) {
        String rows = "select hex(sha3_query('select id, b from t order by id; select n from meta'))";
        assertThat(SqliteCli.run(copy, rows)).as("rows of " + copy.getFileName()).isEqualTo(SqliteCli.run(db, rows));
        assertThat(SqliteCli.run(copy, "pragma quick_check").trim()).isEqualTo("ok");
    }

    private static Map<String, String> credentials() {
        return Map.of("AWS_ACCESS_KEY_ID", S3ProxyServer.IDENTITY, "AWS_SECRET_ACCESS_KEY", S3ProxyServer.CREDENTIAL,
                "AWS_REGION", "us-east-1");
    }

    /** A {@link BigTransaction} (or the CLI) in a child JVM on a capped heap, whose lines the test awaits. */
    static final class Child implements AutoCloseable {
        private static final AtomicInteger COUNT = new AtomicInteger();
        private final Process process;
        private final Path log;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        private Child(Process process, Path log) {
            this.process = process;
            this.log = log;
            Thread pump = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line = out.readLine(); line != null; line = out.readLine()) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    lines.add("FAILED reading the child's output: " + e);
                }
            }, "child-output");
            pump.setDaemon(true);
            pump.start();
        }

        static Child start(Map<String, String> env, String... args) {
            return run(env, BigTransaction.class.getName(), args);
        }

        static Child cli(Map<String, String> env, String... args) {
            return run(env, "io.walship.cli.WalshipCommand", args);
        }

        /** The child logs (SLF4J simple) to a file of its own, shown when it fails. */
        private static Child run(Map<String, String> env, String mainClass, String... args) {
            Path log = Path.of("target", "big-transaction-" + COUNT.incrementAndGet() + ".log").toAbsolutePath();
            return new Child(ChildJvm.start(ProcessBuilder.Redirect.PIPE,
                    ProcessBuilder.Redirect.to(Path.of(log + ".err").toFile()), List.of(HEAP,
                    "-Dorg.slf4j.simpleLogger.logFile=" + log), env, mainClass, args), log);
        }

        /** The last lines of the child's log and of its stderr (where an uncaught error or an OOM lands). */
        private String logTail() {
            return tail(log) + "\nstderr:\n" + tail(Path.of(log + ".err"));
        }

        private static String tail(Path file) {
            try {
                List<String> all = Files.readAllLines(file);
                return String.join("\n", all.subList(Math.max(0, all.size() - 20), all.size()));
            } catch (IOException e) {
                return "(nothing: " + e + ")";
            }
        }

        /** Waits for a line starting with {@code prefix}; fails on a FAILED line, an exit or the time limit. */
        String await(String prefix) throws InterruptedException {
            long deadline = System.nanoTime() + STEP.toNanos();
            while (System.nanoTime() < deadline) {
                String line = lines.poll(100, TimeUnit.MILLISECONDS);
                if (line == null) {
                    if (!process.isAlive() && lines.isEmpty()) {
                        fail("child exited with " + process.exitValue() + " before printing " + prefix + "\n"
                                + logTail());
                    }
                    continue;
                }
                if (line.startsWith("FAILED")) {
                    fail("child " + line + " while waiting for " + prefix + "\n" + logTail());
                }
                if (line.startsWith(prefix)) {
                    return line;
                }
            }
            return fail("no line " + prefix + " within " + STEP + "\n" + logTail());
        }

        /** Waits until {@code condition} holds while the child runs; fails if it exits first. */
        void awaitWhileAlive(BooleanSupplier condition, String what) throws InterruptedException {
            long deadline = System.nanoTime() + STEP.toNanos();
            while (!condition.getAsBoolean()) {
                if (!process.isAlive()) {
                    fail("child exited (" + process.exitValue() + ") before " + what + ": " + lines + "\n" + logTail());
                }
                if (System.nanoTime() > deadline) {
                    fail("no " + what + " within " + STEP);
                }
                Thread.sleep(5);
            }
        }

        void kill() throws InterruptedException {
            process.toHandle().destroyForcibly(); // SIGKILL: no close, no flush, no checkpoint
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }

        int exitCode() throws InterruptedException {
            assertThat(process.waitFor(STEP.toSeconds(), TimeUnit.SECONDS)).as("exited in time").isTrue();
            if (process.exitValue() != 0) {
                BigTransactionTest.log.warn("child exited with {}:\n{}", process.exitValue(), logTail());
            }
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }
}
