package io.walship;

import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one object with create-only semantics, retrying storage errors with capped, jittered
 * exponential backoff until the object is stored or found to be someone else's.
 */
final class StorageWriter {
    /*
     * ALREADY_EXISTS is ambiguous after a failed attempt: a request that timed out may have
     * landed. The caller's `sameContent` check reads what is stored and decides: ours (stored)
     * or another primary's (fenced). Every failure is retried, retryable or not: an ack never
     * completes before its data is stored, and storage that comes back (credentials fixed,
     * disk freed) resumes shipping where it stopped. The first failure and every tenth is
     * logged at WARN. Anything else a Storage throws (a bug, an unmapped client error) is not
     * retried: it reaches the caller's thread, whose owner fails the primary with it.
     */
    private static final Logger log = LoggerFactory.getLogger(StorageWriter.class);

    interface Put {
        PutResult put() throws StorageException;
    }

    interface SameContent {
        boolean test() throws StorageException;
    }

    private final Storage storage;
    private final PrimaryOptions options;
    private final String db;
    private final PrimaryMeters meters;
    /** The last failure, since the first of the current outage; null while storage accepts writes. */
    private volatile Problem outage;
    private volatile long lastStoredMillis = -1;

    StorageWriter(Storage storage, PrimaryOptions options, String db, PrimaryMeters meters) {
        this.storage = storage;
        this.options = options;
        this.db = db;
        this.meters = meters;
    }

    Storage storage() {
        return storage;
    }

    /** The last failure, while no write has succeeded since; else null. */
    StorageException outage() {
        Problem current = outage;
        return current == null ? null : (StorageException) current.error();
    }

    /** The current outage as a status problem (its last error, since its first), or null. */
    Problem outageProblem() {
        return outage;
    }

    /** Wall-clock time of the last object stored by this writer, or -1. */
    long lastStoredMillis() {
        return lastStoredMillis;
    }

    /**
     * Stores one object, waiting out failures on the calling thread.
     *
     * @param bytes the object's size, for the meters
     * @return true when the object is stored (by us), false when another writer's object holds the key
     */
    boolean store(String key, long bytes, Put put, SameContent sameContent) throws InterruptedException {
        Attempts attempts = attempts(key, bytes, put, sameContent);
        while (true) {
            Boolean ours = attempts.tryOnce();
            if (ours != null) {
                return ours;
            }
            TimeUnit.NANOSECONDS.sleep(attempts.retryDelayNanos());
        }
    }

    /** The attempts at one object, for a caller that waits between them without holding its thread. */
    Attempts attempts(String key, long bytes, Put put, SameContent sameContent) {
        return new Attempts(key, bytes, put, sameContent);
    }

    /** One object's attempts, each made by {@link #tryOnce()}, with the backoff between them. */
    final class Attempts {
        private final String key;
        private final long bytes;
        private final Put put;
        private final SameContent sameContent;
        private final long started = System.nanoTime();
        private long backoffNanos = options.retryInitialBackoff().toNanos();
        /** System.nanoTime() after which the next attempt may be made. */
        private long retryAtNanos;
        private int attempt;

        private Attempts(String key, long bytes, Put put, SameContent sameContent) {
            this.key = key;
            this.bytes = bytes;
            this.put = put;
            this.sameContent = sameContent;
        }

        /**
         * One attempt: true when the object is stored (by us), false when another writer's object
         * holds the key, null when it failed and is to be tried again after {@link #retryDelayNanos()}.
         */
        Boolean tryOnce() {
            attempt++;
            try {
                PutResult result = put.put();
                outage = null;
                boolean ours = result == PutResult.CREATED || sameContent.test();
                if (ours) {
                    if (attempt > 1) {
                        log.info("storage write recovered db={} key={} attempt={}", db, key, attempt);
                    }
                    lastStoredMillis = options.clock().millis();
                    meters.uploaded(key, bytes, started);
                }
                return ours;
            } catch (StorageException e) {
                Problem previous = outage;
                outage = new Problem(Problem.kindOf(e), e,
                        previous == null ? options.clock().instant() : previous.since());
                meters.uploadFailed(key, e);
                if (attempt == 1 || attempt % 10 == 0) {
                    log.warn("storage write failed, retrying db={} key={} attempt={} retryable={} error={}", db, key,
                            attempt, e.isRetryable(), e.getMessage());
                }
                long half = backoffNanos / 2;
                retryAtNanos = System.nanoTime() + half + ThreadLocalRandom.current().nextLong(half + 1);
                backoffNanos = Math.min(backoffNanos * 2, options.retryMaxBackoff().toNanos());
                return null;
            }
        }

        /** How long to wait still before the next attempt, after one that failed; 0 when it may be made now. */
        long retryDelayNanos() {
            return Math.max(0, retryAtNanos - System.nanoTime());
        }
    }
}
