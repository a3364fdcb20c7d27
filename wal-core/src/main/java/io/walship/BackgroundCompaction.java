package io.walship;

import io.walship.compaction.CompactionPolicy;
import io.walship.compaction.CompactionResult;
import io.walship.compaction.Compactor;
import io.walship.internal.format.SegmentSpill;
import io.walship.internal.metrics.Metrics;
import io.walship.metrics.WalshipMeter;
import io.walship.storage.Storage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's compactor: one low-priority daemon thread running {@link Compactor#run()} every
 * interval, off the writer's path (it touches storage only, never the database).
 *
 * <p>A failed run does not stop the primary: no acknowledged write depends on it, and the next
 * run starts from a fresh listing. It is not silent either: one WARN line when runs start
 * failing (and one INFO when they recover), {@code walship.primary.errors{task=compaction}} per
 * failure, and the error in {@link Primary#status()} while it lasts.
 *
 * <p>A run that finds storage damaged (a hole in the history, an object that does not read back)
 * leaves it alone and says so loudly: one ERROR line per new problem, the
 * {@code walship.storage.holes} and {@code walship.storage.problems} gauges, and the first problem
 * in {@link Primary#status()} until a run finds none.
 */
final class BackgroundCompaction implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BackgroundCompaction.class);

    private final String db;
    private final Compactor compactor;
    private final Metrics metrics;
    private final ScheduledExecutorService thread;
    private final PrimaryOptions options;
    private volatile Problem failure;
    /** The first of what the last run found wrong in storage, while runs find something; else null. */
    private volatile Problem damage;
    private final java.util.Set<String> reported = new java.util.HashSet<>();

    BackgroundCompaction(String db, Path database, Storage storage, CompactionPolicy policy, PrimaryOptions options,
                         Metrics metrics) {
        this.db = db;
        this.options = options;
        this.metrics = metrics;
        this.compactor = new Compactor(storage, policy, options.clock(), SegmentSpill.besideDatabase(database),
                options.meterRegistry(), db);
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "walship-compactor-" + db);
            t.setDaemon(true);
            t.setPriority(Thread.MIN_PRIORITY);
            return t;
        });
        Duration interval = options.compactionInterval();
        thread.scheduleWithFixedDelay(this::runOnce, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void runOnce() {
        try {
            CompactionResult result = compactor.run();
            if (failure != null) {
                log.info("compaction recovered db={}", db);
                failure = null;
            }
            noteProblems(result);
        } catch (RuntimeException e) {
            String kind = Problem.kindOf(e);
            metrics.counter(WalshipMeter.PRIMARY_ERRORS, "task", "compaction", "kind", kind).increment();
            if (failure == null) {
                log.warn("compaction failed, retried every {} db={} error={}", options.compactionInterval(), db,
                        e.toString());
                failure = Problem.of(e, options.clock().instant());
            }
        }
    }

    private void noteProblems(CompactionResult result) {
        if (result.ok()) {
            if (damage != null) {
                log.info("storage problems cleared db={}", db);
            }
            damage = null;
            reported.clear();
            return;
        }
        for (WalshipException problem : result.problems()) {
            if (reported.add(problem.getMessage())) {
                log.error("storage problem found by compaction, left alone db={} holes={} error={}", db,
                        result.holes(), problem.getMessage());
            }
        }
        Problem previous = damage;
        damage = Problem.of(result.problems().get(0), previous == null ? options.clock().instant() : previous.since());
    }

    /** The failure of the last run while runs fail, else what the last run found wrong in storage, else null. */
    Problem failure() {
        return failure != null ? failure : damage;
    }

    /** Stops after the run in progress, if any (waits for it, bounded by the close timeout). */
    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(options.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        compactor.close();
    }
}
