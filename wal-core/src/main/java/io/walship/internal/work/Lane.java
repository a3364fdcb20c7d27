package io.walship.internal.work;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One database's share of a pool: a step that runs when signalled, never twice at once, on
 * whichever thread of the pool is free.
 */
public final class Lane {
    /*
     * Replaces a thread per database that waited on a condition. Whoever would have notified
     * that thread calls signal(); a step that would have waited with a timeout returns and
     * asks for signalAfter(). So an idle database holds no thread and no timer.
     *
     * States: IDLE -> SCHEDULED (queued on the pool) -> RUNNING -> IDLE, or RUNNING -> AGAIN when
     * signalled mid-step: the step is queued again at its end rather than looped, so a database
     * with endless work takes its turn with the others instead of keeping a thread.
     *
     * Interrupts. A step that must be stopped in a blocking call (a flusher's upload at a failed
     * close) is interrupted through interruptStep(), which only interrupts while the step runs;
     * the flag is cleared under the same lock when the step ends, so it never reaches the next
     * database's work on that thread.
     */
    private static final Logger log = LoggerFactory.getLogger(Lane.class);
    private static final int IDLE = 0;
    private static final int SCHEDULED = 1;
    private static final int RUNNING = 2;
    private static final int AGAIN = 3;

    private final String name;
    private final Executor pool;
    private final ScheduledExecutorService timer;
    private final Runnable step;
    private final AtomicInteger state = new AtomicInteger(IDLE);
    private Thread runner;
    private ScheduledFuture<?> alarm;
    private long alarmNanos;
    private boolean ended;

    Lane(String name, Executor pool, ScheduledExecutorService timer, Runnable step) {
        this.name = name;
        this.pool = pool;
        this.timer = timer;
        this.step = step;
    }

    /** Runs the step soon: once more after the current run if it is running now. Cheap, never blocks. */
    public void signal() {
        while (true) {
            int s = state.get();
            if (s == SCHEDULED || s == AGAIN) {
                return;
            }
            if (s == RUNNING) {
                if (state.compareAndSet(RUNNING, AGAIN)) {
                    return;
                }
            } else if (state.compareAndSet(IDLE, SCHEDULED)) {
                submit();
                return;
            }
        }
    }

    /**
     * Runs the step once {@code delayNanos} have passed (or sooner, if signalled). Of several
     * pending alarms only the earliest is kept: a step that re-arms on every run costs one timer
     * entry, not one per run.
     */
    public synchronized void signalAfter(long delayNanos) {
        if (ended) {
            return;
        }
        long now = System.nanoTime();
        long at = now + Math.max(0, delayNanos);
        // an alarm still ahead and no later than this one will do; one due already may be the
        // alarm whose signal is running this very step (not done yet, but spent): set a new one
        if (alarm != null && !alarm.isDone() && alarmNanos - now > 0 && alarmNanos - at <= 0) {
            return;
        }
        if (alarm != null) {
            alarm.cancel(false);
        }
        alarmNanos = at;
        try {
            alarm = timer.schedule(this::signal, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            alarm = null; // the runtime is closing: its databases are closed before its threads
        }
    }

    /** Interrupts the step if it is running now; no effect otherwise. */
    public synchronized void interruptStep() {
        if (runner != null) {
            runner.interrupt();
        }
    }

    /** No alarm fires after this; a signal still runs the step (closing work is done through it). */
    public synchronized void cancelAlarm() {
        ended = true;
        if (alarm != null) {
            alarm.cancel(false);
            alarm = null;
        }
    }

    private void submit() {
        try {
            pool.execute(this::run);
        } catch (RejectedExecutionException e) {
            state.set(IDLE);
            log.warn("work refused, the runtime is closed lane={}", name);
        }
    }

    private void run() {
        state.set(RUNNING);
        synchronized (this) {
            runner = Thread.currentThread();
        }
        try {
            step.run();
        } catch (Throwable t) {
            // steps report their own failures; this is the last line of defence for the pool thread
            log.error("work failed lane={}", name, t);
        } finally {
            synchronized (this) {
                runner = null;
                Thread.interrupted();
            }
        }
        if (!state.compareAndSet(RUNNING, IDLE)) {
            state.set(SCHEDULED);
            submit();
        }
    }

    @Override
    public String toString() {
        return "Lane[" + name + "]";
    }
}
