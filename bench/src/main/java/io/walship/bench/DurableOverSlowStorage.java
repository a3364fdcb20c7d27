package io.walship.bench;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.internal.log.ObjectKey;
import io.walship.storage.fs.FileSystemStorage;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * durable_ack_p50_ms_25ms and durable_txn_per_s_16_25ms: 16 writers, each committing a
 * single-row DURABLE transaction and waiting for its ack before the next, against file storage
 * with 25 ms added to every request (an S3 round trip). What group commit does when a store costs
 * a round trip: how long an ack takes and how many transactions each PUT carries.
 */
final class DurableOverSlowStorage {
    private static final int WRITERS = 16;
    private static final long LATENCY_MILLIS = 25;

    private DurableOverSlowStorage() {
    }

    /** Runs this measurement alone: {@code [--quick] [--out DIR]}. */
    public static void main(String[] args) throws Exception {
        BenchRunner.runAlone(args, DurableOverSlowStorage.class, DurableOverSlowStorage::measure);
    }

    static void measure(Measurements into, boolean quick) throws Exception {
        int seconds = quick ? 5 : 15;
        Path dir = BenchDatabase.tempDir("durable-slow");
        try {
            SlowStorage storage = new SlowStorage(FileSystemStorage.open(dir.resolve("storage")), 0);
            try (Primary primary = Primary.open(storage, dir.resolve("primary.db"),
                    PrimaryOptions.builder().snapshotAfterLogBytes(0).compaction(null).build())) {
                primary.write(BenchDatabase::createSchema).get();
                storage.latencyMillis = LATENCY_MILLIS;
                int segmentsBefore = storage.list(ObjectKey.LOG_PREFIX).size();
                AtomicBoolean stop = new AtomicBoolean();
                List<long[]> latencies = new ArrayList<>();
                List<Thread> writers = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++) {
                    long[] mine = new long[seconds * 1000];
                    latencies.add(mine);
                    Random random = new Random(w);
                    Thread writer = new Thread(() -> {
                        try {
                            for (int i = 0; i < mine.length && !stop.get(); i++) {
                                long started = System.nanoTime();
                                primary.write(conn -> {
                                    try (PreparedStatement insert = conn.prepareStatement(BenchDatabase.INSERT)) {
                                        BenchDatabase.bindRow(insert, random);
                                        insert.executeUpdate();
                                    }
                                }).get();
                                mine[i] = System.nanoTime() - started;
                            }
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
                    writers.add(writer);
                }
                long started = System.nanoTime();
                writers.forEach(Thread::start);
                Thread.sleep(seconds * 1000L);
                stop.set(true);
                for (Thread writer : writers) {
                    writer.join();
                }
                double elapsed = (System.nanoTime() - started) / 1e9;
                long[] all = latencies.stream().flatMapToLong(Arrays::stream).filter(n -> n > 0).sorted().toArray();
                int segments = storage.list(ObjectKey.LOG_PREFIX).size() - segmentsBefore;
                into.results.put("durable_ack_p50_ms_25ms", Measurements.round(all[all.length / 2] / 1e6, 1));
                into.results.put("durable_ack_p99_ms_25ms",
                        Measurements.round(all[(int) (all.length * 0.99)] / 1e6, 1));
                into.results.put("durable_txn_per_s_16_25ms", Math.round(all.length / elapsed));
                into.results.put("durable_txn_per_put_16_25ms", Measurements.round((double) all.length / segments, 1));
                into.notes.put("durable_ack_p50_ms_25ms", WRITERS + " writers, each awaiting its DURABLE ack before the"
                        + " next single-row transaction, file storage with " + LATENCY_MILLIS + " ms added to every"
                        + " request, " + seconds + " s; write to ack; target <= 30 (issue #32)");
                into.notes.put("durable_txn_per_s_16_25ms", "transactions acknowledged per second in that run;"
                        + " target >= 500 (issue #32)");
            }
        } finally {
            BenchDatabase.delete(dir);
        }
    }
}
