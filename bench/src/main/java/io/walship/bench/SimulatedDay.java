package io.walship.bench;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.compaction.CompactionPolicy;
import io.walship.compaction.CompactionResult;
import io.walship.compaction.Compactor;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * A day of a small service in DURABLE mode, one transaction a second with each ack awaited, on
 * an injected clock: what storage holds at the end with the default snapshot cadence, compaction
 * (run every simulated minute, as the primary does) and retention; then restores of the newest
 * txid and of one 12 hours back with every storage request delayed 20 ms, as on S3.
 */
final class SimulatedDay {
    private static final long REQUEST_LATENCY_MILLIS = 20;

    /** A clock moved by hand, one simulated second per transaction. */
    private static final class DayClock implements InstantSource {
        private volatile Instant now = Instant.now();

        @Override
        public Instant instant() {
            return now;
        }

        void advance(Duration by) {
            now = now.plus(by);
        }
    }

    /**
     * Storage as the simulated day sees it: objects stamped with the simulated time they were
     * stored (the compactor's grace and retention compare against it), and a
     * fixed delay on each once {@link #latencyMillis} is set.
     */
    private static final class DayStorage extends SlowStorage {
        private final InstantSource clock;
        private final Map<String, Instant> stored = new ConcurrentHashMap<>();

        DayStorage(Storage delegate, InstantSource clock) {
            super(delegate, 0);
            this.clock = clock;
        }

        @Override
        protected PutResult put(String key, Supplier<PutResult> call) {
            PutResult result = super.put(key, call);
            stored.putIfAbsent(key, clock.instant());
            return result;
        }

        @Override
        public List<ObjectInfo> list(String prefix) {
            return super.list(prefix).stream().map(o -> new ObjectInfo(o.key(), o.size(),
                    stored.getOrDefault(o.key(), o.lastModified()))).toList();
        }

        @Override
        public void delete(String key) {
            super.delete(key);
            stored.remove(key);
        }

        @Override
        public void deleteAll(Collection<String> keys) {
            super.deleteAll(keys);
            keys.forEach(stored::remove);
        }
    }

    /**
     * Runs this measurement alone and prints its figures:
     * {@code java -cp benchmarks.jar io.walship.bench.SimulatedDay [quick]}.
     */
    public static void main(String[] args) throws Exception {
        Measurements measurements = new Measurements(args.length > 0 && args[0].equals("quick"));
        measure(measurements, args.length > 0 && args[0].equals("quick"));
        measurements.results.forEach((key, value) -> System.out.println(key + " = " + value));
        measurements.notes.forEach((key, value) -> System.out.println("  " + key + ": " + value));
    }

    static void measure(Measurements into, boolean quick) throws Exception {
        int seconds = quick ? 6 * 3600 : 24 * 3600;
        Path dir = BenchDatabase.tempDir("day");
        try {
            DayClock clock = new DayClock();
            DayStorage storage = new DayStorage(FileSystemStorage.open(dir.resolve("storage")), clock);
            Compactor compactor = new Compactor(storage, CompactionPolicy.defaults(), clock, dir);
            long half = 0;
            long latest = 0;
            Random random = new Random(11);
            long started = System.nanoTime();
            try (Primary primary = Primary.open(storage, dir.resolve("primary.db"),
                    PrimaryOptions.builder().clock(clock).compaction(null).build())) {
                primary.write(BenchDatabase::createSchema).get();
                for (int second = 1; second <= seconds; second++) {
                    clock.advance(Duration.ofSeconds(1));
                    latest = primary.write(conn -> {
                        try (PreparedStatement insert = conn.prepareStatement(BenchDatabase.INSERT)) {
                            BenchDatabase.bindRow(insert, random);
                            insert.executeUpdate();
                        }
                    }).get();
                    if (second == seconds / 2) {
                        half = latest;
                    }
                    if (second % 60 == 0) {
                        compactor.run();
                    }
                }
            }
            CompactionResult end = compactor.run();
            double simulateSeconds = (System.nanoTime() - started) / 1e9;
            String day = quick ? "6 simulated hours (quick profile)" : "a simulated day";
            into.results.put("storage_objects_1d", end.objects());
            into.notes.put("storage_objects_1d", "objects in storage after " + day + " of 1 txn/s DURABLE, each ack"
                    + " awaited, default snapshot cadence, compaction every minute, 7-day retention ("
                    + latest + " transactions, simulated in " + Math.round(simulateSeconds) + " s); target <= 500");
            into.results.put("storage_bytes_1d", end.bytes());
            storage.latencyMillis = REQUEST_LATENCY_MILLIS;
            CountingStorage counted = new CountingStorage(storage);
            restore(into, counted, dir, RestoreTarget.latest(), "");
            restore(into, counted, dir, RestoreTarget.txid(half), "_12h");
        } finally {
            BenchDatabase.delete(dir);
        }
    }

    private static void restore(Measurements into, CountingStorage storage, Path dir, RestoreTarget target,
                                String suffix) throws Exception {
        Path file = dir.resolve("restored" + suffix + ".db");
        storage.reset();
        long started = System.nanoTime();
        RestoreResult result = Restore.run(storage, file, target);
        long millis = (System.nanoTime() - started) / 1_000_000;
        into.results.put("restore_requests_1d" + suffix, storage.puts.get() + storage.gets.get() + storage.lists.get());
        into.results.put("restore_1d" + suffix + "_ms", millis);
        into.notes.put("restore_1d" + suffix + "_ms", "restore of " + (suffix.isEmpty() ? "the newest txid"
                : "a txid 12 hours back") + " (" + result.txid() + ", " + result.segmentsApplied()
                + " log objects after snapshot " + result.snapshotTxid() + ") with every storage request delayed "
                + REQUEST_LATENCY_MILLIS + " ms; targets <= 100 requests, <= 5 s");
        Files.delete(file);
    }
}
