package io.walship.bench;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.Walship;
import io.walship.internal.work.Tenants;
import io.walship.internal.work.Workers;
import io.walship.replica.Replica;
import io.walship.replica.ReplicaOptions;
import io.walship.storage.fs.FileSystemStorage;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * many_db_*: 1,000 primaries and their 1,000 replicas in one runtime on file storage. Threads and
 * heap they hold; ASYNC single-row writes spread over all of them by four writer threads against
 * the same writes into one database (one runtime of one); the lag from a commit to its replica;
 * and what the runtime asks of storage while idle.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.walship.bench.ManyDatabases [--quick] [--out DIR]</pre>
 * (standalone: merges its keys into DIR/results.json, default bench)
 */
final class ManyDatabases {
    private static final int DATABASES = Integer.getInteger("walship.bench.databases", 1000);
    private static final int WRITERS = 4;
    private static final int LAG_SAMPLES = 300;
    private static final int ROUNDS = 3;
    /**
     * Before each round: no write to storage for this long, within the bound. Longer than the
     * compaction interval plus its grace (3 s + 3 s here), so a round does not start just before
     * the compaction of the last one's segments.
     */
    private static final int QUIET_SECONDS = 8;
    private static final int ROUND_SETTLE_BOUND_SECONDS = 60;

    private ManyDatabases() {
    }

    static void measure(Measurements into, boolean quick) throws Exception {
        Path dir = BenchDatabase.tempDir("many-db");
        long writeMillis = quick ? 3_000 : 10_000;
        long idleMillis = quick ? 20_000 : 60_000;
        java.nio.file.Files.createDirectories(dir.resolve("single"));
        CountingStorage singleStorage = new CountingStorage(FileSystemStorage.open(dir.resolve("single").resolve("storage")));
        try (Primary single = Primary.open(singleStorage, dir.resolve("single").resolve("one.db"), PrimaryOptions.async())) {
            single.write(conn -> exec(conn, "create table t(id integer primary key, v text)"));
            single.flush().get();
            long threadsBefore = walshipThreads();
            long heapBefore = Measurements.usedHeap();
            CountingStorage root = new CountingStorage(FileSystemStorage.open(dir.resolve("storage")));
            try (Walship walship = Walship.open(root)) {
                List<Primary> primaries = new ArrayList<>();
                List<Replica> replicas = new ArrayList<>();
                // compaction on a short clock so that its work after the writes ends before the idle window
                PrimaryOptions options = PrimaryOptions.async().toBuilder()
                        .compaction(io.walship.compaction.CompactionPolicy.defaults().withGrace(Duration.ofSeconds(3)))
                        .compactionInterval(Duration.ofSeconds(3)).build();
                for (int i = 0; i < DATABASES; i++) {
                    Primary primary = walship.openPrimary("db-" + i, dir.resolve("p" + i + ".db"), options);
                    primary.write(conn -> exec(conn, "create table t(id integer primary key, v text)"));
                    primary.flush().get();
                    primaries.add(primary);
                    Replica replica = Replica.open(walship, "db-" + i, dir.resolve("r" + i + ".db"),
                            ReplicaOptions.defaults());
                    replica.follow();
                    replicas.add(replica);
                }
                progress("opened " + DATABASES + " primaries and replicas");
                Workers workers = Tenants.of(walship).workers();
                Quiet quiet = new Quiet(List.of(root, singleStorage), workers, primaries, replicas);
                // one database and the many in turn, ROUNDS times: the ratio's error is its spread over rounds.
                // Each round starts once the last one's uploads, compaction and replica catch-up are
                // done, so they do not run into it (PROFILE 21)
                double[] ratios = new double[ROUNDS];
                double singleSum = 0;
                double manySum = 0;
                for (int round = 0; round < ROUNDS; round++) {
                    quiet.await(QUIET_SECONDS, ROUND_SETTLE_BOUND_SECONDS);
                    double one = spread(List.of(single), writeMillis);
                    quiet.await(QUIET_SECONDS, ROUND_SETTLE_BOUND_SECONDS);
                    double spread = spread(primaries, writeMillis);
                    ratios[round] = spread / one;
                    singleSum += one;
                    manySum += spread;
                    progress("round " + round + ": one database " + Math.round(one) + " txn/s, spread "
                            + Math.round(spread) + " txn/s");
                }
                double many = manySum / ROUNDS;
                double one = singleSum / ROUNDS;
                double ratio = Arrays.stream(ratios).average().orElseThrow();
                double ratioError = Math.sqrt(Arrays.stream(ratios).map(r -> (r - ratio) * (r - ratio)).sum()
                        / (ROUNDS - 1));
                long threads = walshipThreads() - threadsBefore;
                long jvmThreads = ManagementFactory.getThreadMXBean().getThreadCount();
                quiet.await(QUIET_SECONDS, ROUND_SETTLE_BOUND_SECONDS); // the lag of a commit, not of the rounds' backlog
                double[] lag = lag(primaries, replicas);
                progress("lag p99 " + lag[1] + " ms");
                long heapMb = (Measurements.usedHeap() - heapBefore) >> 20;

                quiet.awaitIdle(QUIET_SECONDS, 90); // compaction is done
                progress("settled");
                Thread.sleep(5_000); // followers back off to their bound
                long puts = root.puts.get();
                long requests = root.requests();
                Thread.sleep(idleMillis);
                double perMinute = 60_000.0 / idleMillis;
                long idlePuts = root.puts.get() - puts;
                long idleRequests = root.requests() - requests;

                into.results.put("many_db_threads", threads);
                into.results.put("many_db_jvm_threads", jvmThreads);
                into.results.put("many_db_heap_mb", heapMb);
                into.results.put("many_db_txn_per_s", Math.round(many));
                into.results.put("single_db_txn_per_s", Math.round(one));
                into.results.put("many_db_txn_ratio", Measurements.round(ratio, 2));
                into.results.put("many_db_txn_ratio_error", Measurements.round(ratioError, 2));
                into.results.put("many_db_added_us_per_txn", Measurements.round(1e6 / many - 1e6 / one, 1));
                into.results.put("many_db_lag_p50_ms", Measurements.round(lag[0], 1));
                into.results.put("many_db_lag_p99_ms", Measurements.round(lag[1], 1));
                into.results.put("idle_db_requests_per_min", Math.round(idlePuts * perMinute));
                into.results.put("idle_follower_requests_per_min", Measurements.round(
                        (idleRequests - idlePuts) * perMinute / DATABASES, 1));
                into.notes.put("many_db_threads", DATABASES + " primaries and " + DATABASES + " replicas in one"
                        + " Walship runtime (default threads), file storage: walship threads alive after the writes;"
                        + " target <= 32 (many_db_jvm_threads: every thread of the JVM)");
                into.notes.put("many_db_heap_mb", "heap the " + DATABASES + " primaries and replicas hold after"
                        + " the writes, settled by GC; target <= 256");
                into.notes.put("many_db_txn_ratio", "ASYNC single-row writes by " + WRITERS + " threads spread"
                        + " over " + DATABASES + " primaries (replicas following) ÷ the same writers into one"
                        + " database, " + writeMillis / 1000 + " s each, in turn " + ROUNDS + " times, each after "
                        + QUIET_SECONDS + " s without a write to storage; _error: the"
                        + " standard deviation of the rounds' ratios; many_db_added_us_per_txn: wall time per"
                        + " transaction added by spreading");
                into.notes.put("many_db_lag_p99_ms", LAG_SAMPLES + " single writes to databases picked in turn:"
                        + " commit to applied on its replica (flush, then awaitTxid)");
                into.notes.put("idle_db_requests_per_min", "storage writes by " + DATABASES + " idle primaries per"
                        + " minute, counted over " + idleMillis / 1000 + " s once compaction (3 s interval and grace here)"
                        + " had finished the work the writes left; target 0");
                into.notes.put("idle_follower_requests_per_min", "storage reads per idle follower per minute at the"
                        + " default backoff (maxIdlePollInterval 2 s); the storage watch wakes them on file storage");
                for (Replica replica : replicas) {
                    replica.close();
                }
            }
        } finally {
            BenchDatabase.delete(dir);
        }
    }

    private static void progress(String what) {
        System.err.println("many databases: " + what + " at " + java.time.Instant.now());
    }

    /** Transactions per second that WRITERS threads commit, each writing to the databases in turn. */
    private static double spread(List<Primary> primaries, long millis) throws Exception {
        ExecutorService writers = Executors.newFixedThreadPool(WRITERS);
        AtomicLong count = new AtomicLong();
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        List<Future<?>> done = new ArrayList<>();
        long started = System.nanoTime();
        for (int w = 0; w < WRITERS; w++) {
            int first = w;
            done.add(writers.submit(() -> {
                int i = first;
                while (System.nanoTime() < end) {
                    Primary primary = primaries.get(i % primaries.size());
                    primary.write(conn -> exec(conn, "insert into t(v) values ('a row of some thirty bytes..')"));
                    count.incrementAndGet();
                    i += WRITERS;
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        writers.shutdown();
        for (Primary primary : primaries) {
            primary.flush().get();
        }
        return count.get() / seconds;
    }

    private static double[] lag(List<Primary> primaries, List<Replica> replicas) throws Exception {
        double[] millis = new double[LAG_SAMPLES];
        for (int s = 0; s < LAG_SAMPLES; s++) {
            int i = (s * 7919) % primaries.size();
            long started = System.nanoTime();
            long txid = primaries.get(i).write(conn -> exec(conn, "insert into t(v) values ('lag')")).txid();
            primaries.get(i).flush();
            if (!replicas.get(i).awaitTxid(txid, Duration.ofSeconds(30))) {
                throw new IllegalStateException("replica " + i + " did not reach txid " + txid + " in 30 s");
            }
            millis[s] = (System.nanoTime() - started) / 1e6;
        }
        Arrays.sort(millis);
        return new double[] {millis[LAG_SAMPLES / 2], millis[(int) Math.ceil(LAG_SAMPLES * 0.99) - 1]};
    }

    /** What must be still before a measurement: storage written to, replicas behind, the runtime's workers. */
    private record Quiet(List<CountingStorage> storages, Workers workers, List<Primary> primaries,
                         List<Replica> replicas) {
        /**
         * Before a round: waits until nothing was written to storage (uploads, compaction) for
         * {@code quietSeconds} and every replica caught up, at most {@code boundSeconds}. The
         * workers are not waited for: 1,000 following replicas keep some poll running most of the time.
         */
        void await(int quietSeconds, int boundSeconds) throws InterruptedException {
            await(quietSeconds, boundSeconds, () -> false);
        }

        /** As {@link #await(int, int)}, and no lane of the runtime running or queued either. */
        void awaitIdle(int quietSeconds, int boundSeconds) throws InterruptedException {
            await(quietSeconds, boundSeconds, workers::busy);
        }

        private void await(int quietSeconds, int boundSeconds, java.util.function.BooleanSupplier busy)
                throws InterruptedException {
            long bound = System.nanoTime() + TimeUnit.SECONDS.toNanos(boundSeconds);
            long quietSince = System.nanoTime();
            long lastPuts = puts();
            while (System.nanoTime() < bound) {
                Thread.sleep(200);
                if (puts() != lastPuts || busy.getAsBoolean() || replicasBehind()) {
                    lastPuts = puts();
                    quietSince = System.nanoTime();
                } else if (System.nanoTime() - quietSince > TimeUnit.SECONDS.toNanos(quietSeconds)) {
                    return;
                }
            }
            progress("still busy after " + boundSeconds + " s, measuring anyway");
        }

        private long puts() {
            return storages.stream().mapToLong(s -> s.puts.get()).sum();
        }

        private boolean replicasBehind() {
            for (int i = 0; i < primaries.size(); i++) {
                if (replicas.get(i).status().txid() < primaries.get(i).status().txid()) {
                    return true;
                }
            }
            return false;
        }
    }

    private static long walshipThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("walship-")).count();
    }

    private static void exec(java.sql.Connection conn, String sql) throws java.sql.SQLException {
        try (Statement s = conn.createStatement()) {
            s.execute(sql);
        }
    }

    /** Runs this measurement alone and merges its keys into results.json and RESULTS.md. */
    public static void main(String[] args) throws Exception {
        BenchRunner.runAlone(args, ManyDatabases.class, ManyDatabases::measure);
    }
}
