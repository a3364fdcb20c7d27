package io.walship;

import io.walship.compaction.CompactionPolicy;
import io.walship.compaction.CompactionResult;
import io.walship.compaction.Compactor;
import io.walship.internal.log.SegmentSpill;
import io.walship.internal.metrics.Metrics;
import io.walship.internal.work.Lane;
import io.walship.internal.work.Workers;
import io.walship.metrics.WalshipMeter;
import io.walship.storage.Storage;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's compactor: {@link Compactor#run()} in a lane of the runtime's low-priority
 * compaction pool, off the writer's path (it touches storage only, never the database).
 *
 * <p>When. One run a compaction interval after open (storage may hold work from before), then
 * one a compaction interval after the first segment stored since the last run; and again after a
 * run that did work, failed or found damage, and until the grace period of the last compacted
 * object has passed (its inputs are deleted then). After that a database nobody writes to costs
 * no run, no listing and no timer; what retention would expire by age alone waits for its next
 * write.
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
    private final Lane lane;
    /** Segments were stored since the last run started; a run is due an interval later. */
    private boolean written;
    private boolean armed;
    private boolean closed;
    private boolean running;
    /** System.nanoTime() of the last run that created a compacted object; 0: none yet. Lane only. */
    private long lastCreatedNanos;
    private final long graceNanos;
    private final PrimaryOptions options;
    private volatile Problem failure;
    /** The first of what the last run found wrong in storage, while runs find something; else null. */
    private volatile Problem damage;
    private final java.util.Set<String> reported = new java.util.HashSet<>();

    BackgroundCompaction(String db, Path database, Storage storage, CompactionPolicy policy, PrimaryOptions options,
                         Metrics metrics, Workers workers) {
        this.db = db;
        this.options = options;
        this.metrics = metrics;
        this.compactor = new Compactor(storage, policy, options.clock(), SegmentSpill.besideDatabase(database),
                options.meterRegistry(), db);
        this.graceNanos = policy.grace().toNanos();
        this.lane = workers.lane(Workers.Pool.COMPACTION, "compaction-" + db, this::runOnce);
        arm();
    }

    /** A segment was stored: a run follows within an interval. */
    synchronized void written() {
        written = true;
        if (!armed && !running) {
            arm();
        }
    }

    private synchronized void arm() {
        if (!closed) {
            armed = true;
            lane.signalAfter(options.compactionInterval().toNanos());
        }
    }

    private void runOnce() {
        synchronized (this) {
            if (closed || !armed) {
                return;
            }
            armed = false;
            written = false;
            running = true;
        }
        boolean again = false;
        try {
            CompactionResult result = compactor.run();
            if (failure != null) {
                log.info("compaction recovered db={}", db);
                failure = null;
            }
            noteProblems(result);
            long now = System.nanoTime();
            if (result.created() > 0) {
                lastCreatedNanos = now;
            }
            // what this run replaced is deleted by a run after the grace period: keep running
            // until then, and while runs find work or trouble; then stop until the next write
            again = !result.ok() || result.created() > 0 || result.replaced() > 0 || result.expired() > 0
                    || (lastCreatedNanos != 0 && now - lastCreatedNanos
                        < graceNanos + options.compactionInterval().toNanos());
        } catch (RuntimeException e) {
            again = true;
            String kind = Problem.kindOf(e);
            metrics.counter(WalshipMeter.PRIMARY_ERRORS, "task", "compaction", "kind", kind).increment();
            if (failure == null) {
                log.warn("compaction failed, retried every {} db={} error={}", options.compactionInterval(), db,
                        e.toString());
                failure = Problem.of(e, options.clock().instant());
            }
        } finally {
            synchronized (this) {
                running = false;
                notifyAll();
                if (again || written) {
                    arm();
                }
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
        synchronized (this) {
            closed = true;
            lane.cancelAlarm();
            long deadline = System.nanoTime() + options.closeTimeout().toNanos();
            try {
                while (running && deadline - System.nanoTime() > 0) {
                    TimeUnit.NANOSECONDS.timedWait(this, deadline - System.nanoTime());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        compactor.close();
    }
}
