package io.walship.compaction;

import java.time.Duration;
import java.util.Objects;

/**
 * How storage's history is kept: how long every txid stays restorable ({@code retention}), how
 * long smaller objects outlive the compacted object that replaces them ({@code grace}), and the
 * most input one compacted object may take ({@code maxObjectBytes}). Immutable.
 *
 * <p><b>What retention costs.</b> Storage holds, besides the newest snapshot, every snapshot
 * taken within the window plus the newest one before it, and the whole log after that one:
 * about {@code retention} worth of log bytes plus one snapshot per cadence period. Compaction
 * does not shrink the log's bytes (every transaction stays restorable, page images and all); it
 * bounds the number of objects. A longer retention costs bytes, not requests.
 */
public record CompactionPolicy(Duration retention, Duration grace, long maxObjectBytes) {
    /** Seven days of point-in-time restore. */
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);
    /** Readers that listed just before a compaction still find the small objects for this long. */
    public static final Duration DEFAULT_GRACE = Duration.ofMinutes(1);
    /** Blocks whose inputs exceed this are left as they are: their objects are large already. */
    public static final long DEFAULT_MAX_OBJECT_BYTES = 64L << 20;

    public CompactionPolicy {
        Objects.requireNonNull(retention, "retention");
        Objects.requireNonNull(grace, "grace");
        if (retention.isNegative() || retention.isZero()) {
            throw new IllegalArgumentException("retention must be positive: " + retention);
        }
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace must be >= 0: " + grace);
        }
        if (maxObjectBytes < 1) {
            throw new IllegalArgumentException("maxObjectBytes must be positive: " + maxObjectBytes);
        }
    }

    /** Retention 7 days, grace 1 minute, compacted objects up to 64 MiB. */
    public static CompactionPolicy defaults() {
        return new CompactionPolicy(DEFAULT_RETENTION, DEFAULT_GRACE, DEFAULT_MAX_OBJECT_BYTES);
    }

    /** This policy with another retention window. */
    public CompactionPolicy withRetention(Duration value) {
        return new CompactionPolicy(value, grace, maxObjectBytes);
    }

    /** This policy with another grace period before replaced objects are deleted. */
    public CompactionPolicy withGrace(Duration value) {
        return new CompactionPolicy(retention, value, maxObjectBytes);
    }

    /** This policy with another size limit for one compacted object. */
    public CompactionPolicy withMaxObjectBytes(long value) {
        return new CompactionPolicy(retention, grace, value);
    }
}
