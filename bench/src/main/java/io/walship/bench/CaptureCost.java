package io.walship.bench;

import io.walship.CaptureMode;
import io.walship.Durability;
import io.walship.Primary;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.sqlite.SQLiteConfig;

/**
 * The child process of {@code capture_us_per_txn}: CPU time of the whole process (every thread,
 * user + system) per single-row transaction, for plain sqlite-jdbc or an ASYNC walship primary on
 * the same schema and prefill as {@link WriteBenchmark}. For walship the clock stops once the
 * transactions are stored, so capture, compression, upload and checkpoints all count.
 *
 * <p>Arguments: engine ({@code sqlite}, {@code walship} with the WAL hook, {@code walship-writer}
 * with CaptureMode.WRITER), workload ({@code insert}, {@code update}),
 * transactions. Prints {@code RESULT <cpu ns> <wall ns> <stored bytes> <compilers ns> <capture lane ns>
 * <upload lane ns>} (stored bytes: what the measured transactions added to storage, 0 for plain
 * SQLite; the last three: CPU of those threads alone). With {@code [--quick] [--out DIR]} instead,
 * runs the whole measurement alone and merges its keys into DIR's results.json.
 */
public final class CaptureCost {
    private static final long PREFILL_BYTES = 10L << 20;
    /**
     * Transactions before the clock starts, whatever the profile: the optimizing compiler was
     * still compiling walship's capture path some 60,000 transactions in, and with the quick
     * profile's former 10,000 its work was counted as capture cost.
     */
    private static final int WARM_UP = 60_000;

    private CaptureCost() {
    }

    /**
     * capture_us_per_txn (insert) and capture_us_per_txn_update: three rounds, each a plain SQLite
     * child and a walship child one after the other; the figure is the median over rounds of
     * (walship CPU - plain CPU) / transactions, with the spread of the rounds.
     */
    static void measure(Measurements into, boolean quick) throws Exception {
        int transactions = quick ? 20_000 : 100_000;
        for (String workload : List.of("insert", "update")) {
            double[] added = new double[3];
            double[] addedJava = new double[3];
            double[] addedNoJit = new double[3];
            double[] stored = new double[3];
            double[] captureLane = new double[3];
            double[] uploadLane = new double[3];
            double plainCpu = 0;
            for (int round = 0; round < added.length; round++) {
                long[] plain = child("sqlite", workload, transactions);
                long[] walship = child("walship", workload, transactions);
                long[] writer = child("walship-writer", workload, transactions);
                added[round] = (walship[0] - plain[0]) / 1e3 / transactions;
                addedJava[round] = (writer[0] - plain[0]) / 1e3 / transactions;
                addedNoJit[round] = ((walship[0] - walship[3]) - (plain[0] - plain[3])) / 1e3 / transactions;
                stored[round] = (double) walship[2] / transactions;
                captureLane[round] = walship[4] / 1e3 / transactions;
                uploadLane[round] = walship[5] / 1e3 / transactions;
                plainCpu += plain[0] / 1e3 / transactions / added.length;
            }
            Arrays.sort(added);
            Arrays.sort(addedJava);
            Arrays.sort(addedNoJit);
            Arrays.sort(stored);
            Arrays.sort(captureLane);
            Arrays.sort(uploadLane);
            String suffix = workload.equals("insert") ? "" : "_update";
            into.results.put("capture_us_per_txn" + suffix, Measurements.round(added[1], 1));
            into.results.put("capture_us_per_txn" + suffix + "_spread", Measurements.round(added[2] - added[0], 1));
            into.results.put("capture_us_per_txn_java" + suffix, Measurements.round(addedJava[1], 1));
            into.results.put("capture_us_per_txn_java" + suffix + "_spread",
                    Measurements.round(addedJava[2] - addedJava[0], 1));
            into.notes.put("capture_us_per_txn_java" + suffix, "as capture_us_per_txn" + suffix + ", with"
                    + " CaptureMode.WRITER (no native hook: the writer reads the WAL's new frame headers after each"
                    + " write), in the same rounds");
            into.results.put("capture_us_per_txn_no_jit" + suffix, Measurements.round(addedNoJit[1], 1));
            into.results.put("capture_us_per_txn_no_jit" + suffix + "_spread",
                    Measurements.round(addedNoJit[2] - addedNoJit[0], 1));
            into.notes.put("capture_us_per_txn_no_jit" + suffix, "as capture_us_per_txn" + suffix + ", without"
                    + " the CPU of the JIT compiler threads during the measured transactions (each thread's time on a"
                    + " CPU from /proc/self/task/*/schedstat), in both children of the same rounds: the optimizing"
                    + " compiler's late work varies from run to run by more than a capture change");
            into.results.put("capture_bytes_per_txn" + suffix, Math.round(stored[1]));
            into.results.put("capture_lane_us_per_txn" + suffix, Measurements.round(captureLane[1], 1));
            into.results.put("upload_lane_us_per_txn" + suffix, Measurements.round(uploadLane[1], 1));
            into.notes.put("capture_lane_us_per_txn" + suffix, "of capture_us_per_txn" + suffix + ": the CPU of the"
                    + " capture lane's thread alone (reading the WAL, checks, checksum, compression into the segment),"
                    + " per transaction, median of the same rounds");
            into.notes.put("upload_lane_us_per_txn" + suffix, "of capture_us_per_txn" + suffix + ": the CPU of the"
                    + " upload lane's thread alone (sealing and writing segments, acks), per transaction, median of"
                    + " the same rounds");
            into.notes.put("capture_us_per_txn" + suffix, "CPU time (user + sys, every thread of the process) walship"
                    + " adds per single-row " + workload + " over plain sqlite-jdbc (" + Measurements.round(plainCpu, 1)
                    + " µs per transaction here), ASYNC, same schema and prefill as WriteBenchmark, " + transactions
                    + " transactions after " + WARM_UP + " of warm-up, until stored; median of 3 rounds of"
                    + " two child JVMs each; target <= " + (suffix.isEmpty() ? 15 : 30) + " (issue #32)");
            into.notes.put("capture_bytes_per_txn" + suffix, "what each such transaction adds to storage (segments,"
                    + " compacted objects)");
        }
    }

    private static long[] child(String engine, String workload, int transactions) throws Exception {
        ChildJvm child = ChildJvm.start(List.of("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"), CaptureCost.class,
                engine, workload, Integer.toString(transactions));
        String line = child.readLine();
        if (child.waitFor() != 0 || line == null || !line.startsWith("RESULT ")) {
            throw new IllegalStateException("capture cost child failed (" + engine + " " + workload + "): " + line);
        }
        String[] f = line.split(" ");
        long[] result = new long[f.length - 1];
        for (int i = 0; i < result.length; i++) {
            result[i] = Long.parseLong(f[i + 1]);
        }
        return result;
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].startsWith("--")) { // [--quick] [--out DIR]: the measurement alone
            BenchRunner.runAlone(args, CaptureCost.class, CaptureCost::measure);
            return;
        }
        String engine = args[0];
        boolean update = args[1].equals("update");
        int transactions = Integer.parseInt(args[2]);
        Path dir = BenchDatabase.tempDir("capture-cost");
        try {
            Random random = new Random(42);
            if (engine.equals("sqlite")) {
                try (Connection plain = BenchDatabase.plain(dir.resolve("plain.db"),
                        SQLiteConfig.SynchronousMode.NORMAL)) {
                    BenchDatabase.fill(plain, PREFILL_BYTES, new Random(1));
                    Writer writer = new Writer(plain, update, random);
                    run(transactions, writer::write, () -> { }, () -> 0L);
                }
            } else {
                CaptureMode mode = engine.equals("walship-writer") ? CaptureMode.WRITER : CaptureMode.WAL_HOOK;
                try (Primary primary = BenchDatabase.primary(dir, Durability.ASYNC, mode)) {
                    primary.write(c -> {
                        BenchDatabase.createSchema(c);
                        BenchDatabase.fill(c, PREFILL_BYTES, new Random(1));
                    });
                    primary.flush().get();
                    // statements prepared on the lent writer stay valid after the write that lent it
                    Writer writer = primary.writeAndReturn(c -> new Writer(c, update, random)).peek();
                    run(transactions, () -> primary.write(c -> writer.write()), () -> primary.flush().get(),
                            () -> storedBytes(dir.resolve("storage")));
                }
            }
        } finally {
            BenchDatabase.delete(dir);
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private interface Size {
        long bytes() throws Exception;
    }

    private static long storedBytes(Path storage) throws Exception {
        try (Stream<Path> files = Files.walk(storage)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    private static void run(int transactions, Step write, Step settle, Size stored) throws Exception {
        for (int i = 0; i < WARM_UP; i++) { // warm up: JIT, page cache, the WAL at its size
            write.run();
        }
        settle.run();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long storedBefore = stored.bytes();
        long compilers = threadCpuNanos(COMPILERS);
        long captureLane = threadCpuNanos(CAPTURE_LANE);
        long uploadLane = threadCpuNanos(UPLOAD_LANE);
        long cpu = os.getProcessCpuTime();
        long wall = System.nanoTime();
        for (int i = 0; i < transactions; i++) {
            write.run();
        }
        settle.run();
        long cpuNanos = os.getProcessCpuTime() - cpu;
        long wallNanos = System.nanoTime() - wall;
        long compilerNanos = threadCpuNanos(COMPILERS) - compilers;
        long captureLaneNanos = threadCpuNanos(CAPTURE_LANE) - captureLane;
        long uploadLaneNanos = threadCpuNanos(UPLOAD_LANE) - uploadLane;
        System.out.println("RESULT " + cpuNanos + " " + wallNanos + " " + (stored.bytes() - storedBefore) + " "
                + compilerNanos + " " + captureLaneNanos + " " + uploadLaneNanos);
    }

    /** Thread names (as /proc shows them, cut to 15 characters) of the JIT compilers and walship's two lanes. */
    private static final String COMPILERS = "CompilerThre";
    private static final String CAPTURE_LANE = "walship-captur";
    private static final String UPLOAD_LANE = "walship-io-";

    /**
     * CPU time the threads whose name contains {@code name} have used so far (nanoseconds on a
     * CPU, from the scheduler's statistics of each thread), or 0 where /proc does not say. A
     * thread that ends between two calls takes its time with it, so a difference can only
     * understate their share.
     */
    private static long threadCpuNanos(String name) {
        long total = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                try {
                    if (Files.readString(task.resolve("comm")).contains(name)) {
                        total += Long.parseLong(Files.readString(task.resolve("schedstat")).split(" ")[0]);
                    }
                } catch (IOException | NumberFormatException e) {
                    // the thread ended meanwhile, or no scheduler statistics: it adds nothing
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return total;
    }

    private static final class Writer {
        private final PreparedStatement statement;
        private final boolean update;
        private final Random random;
        private final long maxId;

        Writer(Connection conn, boolean update, Random random) throws SQLException {
            this.update = update;
            this.random = random;
            this.maxId = BenchDatabase.maxId(conn);
            this.statement = conn.prepareStatement(update ? BenchDatabase.UPDATE : BenchDatabase.INSERT);
        }

        void write() throws SQLException {
            if (update) {
                BenchDatabase.bindUpdate(statement, random, maxId);
            } else {
                BenchDatabase.bindRow(statement, random);
            }
            statement.executeUpdate();
        }
    }
}
