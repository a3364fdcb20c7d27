package io.walship;

import io.micrometer.core.instrument.MeterRegistry;
import io.walship.compaction.CompactionPolicy;
import io.walship.encryption.Encryption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;
import java.util.Optional;

/**
 * How a {@link Primary} ships its log. Immutable; build with {@link #builder()} or start from
 * {@link #durable()} / {@link #async()} and change what you need with {@link #toBuilder()}.
 */
public final class PrimaryOptions {
    /** The least log that the fraction trigger waits for: tiny databases are not snapshotted every few segments. */
    public static final long SNAPSHOT_MIN_LOG_BYTES = 1L << 20;

    private final Durability durability;
    private final Duration flushInterval;
    private final Duration groupCommitDelay;
    private final long flushBytes;
    private final long maxSegmentBytes;
    private final long maxPendingBytes;
    private final int checkpointFrames;
    private final long snapshotAfterLogBytes;
    private final double snapshotLogFraction;
    private final Duration snapshotInterval;
    private final int readConnections;
    private final int pageSize;
    private final Duration retryInitialBackoff;
    private final Duration retryMaxBackoff;
    private final Duration closeTimeout;
    private final int keepDivergedCopies;
    private final long captureMemoryBytes;
    private final long streamWindowBytes;
    private final Encryption encryption;
    private final CompactionPolicy compaction;
    private final Duration compactionInterval;
    private final InstantSource clock;
    private final CaptureMode captureMode;
    /** Typed by name only: Micrometer is loaded when a registry is given, never otherwise. */
    private final MeterRegistry meterRegistry;

    private PrimaryOptions(Builder b) {
        this.durability = b.durability;
        this.flushInterval = b.flushInterval;
        this.groupCommitDelay = b.groupCommitDelay;
        this.flushBytes = b.flushBytes;
        this.maxSegmentBytes = b.maxSegmentBytes;
        this.maxPendingBytes = b.maxPendingBytes;
        this.checkpointFrames = b.checkpointFrames;
        this.snapshotAfterLogBytes = b.snapshotAfterLogBytes;
        this.snapshotLogFraction = b.snapshotLogFraction;
        this.snapshotInterval = b.snapshotInterval;
        this.readConnections = b.readConnections;
        this.pageSize = b.pageSize;
        this.retryInitialBackoff = b.retryInitialBackoff;
        this.retryMaxBackoff = b.retryMaxBackoff;
        this.closeTimeout = b.closeTimeout;
        this.keepDivergedCopies = b.keepDivergedCopies;
        this.captureMemoryBytes = b.captureMemoryBytes;
        this.streamWindowBytes = b.streamWindowBytes;
        this.encryption = b.encryption;
        this.compaction = b.compaction;
        this.compactionInterval = b.compactionInterval;
        this.captureMode = b.captureMode;
        this.clock = b.clock;
        this.meterRegistry = b.meterRegistry;
    }

    /** Every acknowledged write is in storage; uploads back to back with group commit. */
    public static PrimaryOptions durable() {
        return builder().build();
    }

    /** Uploads every second or every 4 MiB of log, whichever comes first. */
    public static PrimaryOptions async() {
        return builder().durability(Durability.ASYNC).build();
    }

    /** A builder starting from the defaults of {@link #durable()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these options; the setters are documented on the getters of the same name. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * When {@link Primary#write} acknowledges: after the commit (ASYNC) or once the transaction is stored (DURABLE).
     */
    public Durability durability() {
        return durability;
    }

    /** ASYNC: the longest a committed transaction waits before its segment is uploaded. */
    public Duration flushInterval() {
        return flushInterval;
    }

    /**
     * DURABLE: the longest the next upload waits, after an upload that released several writers
     * waiting on their acks, for them to commit again, so that they share one upload (about one
     * storage round trip per ack instead of two). Only after uploads of 4 ms or more (remote
     * storage, never a local disk's few fsyncs), at most a fifth of that upload's time, and ended
     * early once as many more transactions as it released writers have committed; writes nobody
     * waits on never wait. Zero turns it off: each upload starts the moment the previous one returns.
     */
    public Duration groupCommitDelay() {
        return groupCommitDelay;
    }

    /** ASYNC: upload as soon as this many bytes of log are pending. */
    public long flushBytes() {
        return flushBytes;
    }

    /**
     * Largest segment body (uncompressed) packed from several transactions; one bigger transaction gets a segment of
     * its own.
     */
    public long maxSegmentBytes() {
        return maxSegmentBytes;
    }

    /** Writers wait while this many bytes of captured log are not yet stored (storage slow or down). */
    public long maxPendingBytes() {
        return maxPendingBytes;
    }

    /** Checkpoint the WAL into the database file once it holds this many frames. */
    public int checkpointFrames() {
        return checkpointFrames;
    }

    /**
     * Take a snapshot once this many bytes of segments were stored since the last one, however
     * large the database; 0 turns scheduled snapshots off altogether (the other two triggers too).
     */
    public long snapshotAfterLogBytes() {
        return snapshotAfterLogBytes;
    }

    /**
     * Take a snapshot once the log stored since the last one exceeds this fraction of the
     * database's size (and at least {@link #SNAPSHOT_MIN_LOG_BYTES}): a restore or a new replica
     * then never replays more than that share of the database on top of a snapshot. 0 turns
     * this trigger off.
     */
    public double snapshotLogFraction() {
        return snapshotLogFraction;
    }

    /**
     * Take a snapshot once this long has passed since the last one and some log was stored
     * since; an idle database is never snapshotted again.
     */
    public Duration snapshotInterval() {
        return snapshotInterval;
    }

    /** Size of the read-only connection pool. */
    public int readConnections() {
        return readConnections;
    }

    /** Page size of a database walship creates; an existing database keeps its own. */
    public int pageSize() {
        return pageSize;
    }

    /**
     * First wait before a failed storage write is retried; doubles on every failure up to {@link #retryMaxBackoff()}.
     */
    public Duration retryInitialBackoff() {
        return retryInitialBackoff;
    }

    /**
     * Longest wait between retries of a failed storage write; writes are retried until they succeed or the primary
     * closes.
     */
    public Duration retryMaxBackoff() {
        return retryMaxBackoff;
    }

    /** How long {@link Primary#close()} waits for pending transactions to be stored. */
    public Duration closeTimeout() {
        return closeTimeout;
    }

    /**
     * How many copies of a local database that left storage's history {@link Primary#open} keeps
     * (as {@code <db>.diverged-<millis>}, with its {@code -wal}), newest first; older copies are
     * deleted, and with 0 none is kept. Default 3.
     */
    public int keepDivergedCopies() {
        return keepDivergedCopies;
    }

    /**
     * What segments being built or waiting for upload may hold in memory together; beyond it they
     * go to temporary files in {@code <db>-walship.spill/}, so a transaction of any size is
     * captured in bounded memory. Default 4 MiB; 0 puts every segment in a file.
     */
    public long captureMemoryBytes() {
        return captureMemoryBytes;
    }

    /**
     * How many bytes of recent transactions (page images) {@link Primary#subscribe subscribers}
     * are served from memory; older ones come from storage, and a subscriber reading from memory
     * that falls further behind is cut off. Held only while a subscriber exists. Default 8 MiB.
     */
    public long streamWindowBytes() {
        return streamWindowBytes;
    }

    /**
     * How everything the primary stores is encrypted, or empty for plaintext. With it, no object
     * leaves the primary unencrypted; without it, a storage holding encrypted objects is refused
     * at open ({@link io.walship.encryption.EncryptionException}, NO_KEY).
     */
    public Optional<Encryption> encryption() {
        return Optional.ofNullable(encryption);
    }

    /**
     * Source of every time walship stores or schedules by (commit times, snapshot and compaction cadence, retention);
     * real-time waits such as the ASYNC flush interval use the JVM's monotonic clock.
     */
    public InstantSource clock() {
        return clock;
    }

    /** Where the primary's meters go (docs/METRICS.md); null: no metrics, and Micrometer not needed. */
    public MeterRegistry meterRegistry() {
        return meterRegistry;
    }

    /**
     * How the primary compacts storage and applies retention in the background, or empty when a
     * separate {@code walship compact} process does (or nothing does).
     */
    public Optional<CompactionPolicy> compaction() {
        return Optional.ofNullable(compaction);
    }

    /** Pause between two background compaction runs. */
    public Duration compactionInterval() {
        return compactionInterval;
    }

    /** How commits are captured; {@link CaptureMode#AUTO} by default. */
    public CaptureMode captureMode() {
        return captureMode;
    }

    @Override
    public String toString() {
        return "PrimaryOptions[durability=" + durability + ", flushInterval=" + flushInterval
                + ", groupCommitDelay=" + groupCommitDelay + ", flushBytes="
                + flushBytes + ", maxSegmentBytes=" + maxSegmentBytes + ", maxPendingBytes=" + maxPendingBytes
                + ", checkpointFrames=" + checkpointFrames + ", snapshotAfterLogBytes=" + snapshotAfterLogBytes
                + ", snapshotLogFraction=" + snapshotLogFraction + ", snapshotInterval=" + snapshotInterval
                + ", readConnections=" + readConnections + ", pageSize=" + pageSize + ", retryInitialBackoff="
                + retryInitialBackoff + ", retryMaxBackoff=" + retryMaxBackoff + ", closeTimeout=" + closeTimeout
                + ", keepDivergedCopies=" + keepDivergedCopies + ", captureMemoryBytes=" + captureMemoryBytes
                + ", streamWindowBytes=" + streamWindowBytes + ", encryption=" + encryption
                + ", compaction=" + compaction + ", compactionInterval=" + compactionInterval
                + ", captureMode=" + captureMode + ", metrics=" + (meterRegistry != null) + "]";
    }

    /** Builds {@link PrimaryOptions}; each setter checks its value at once. */
    public static final class Builder {
        private Durability durability = Durability.DURABLE;
        private Duration flushInterval = Duration.ofSeconds(1);
        private Duration groupCommitDelay = Duration.ofMillis(10);
        private long flushBytes = 4L << 20;
        private long maxSegmentBytes = 16L << 20;
        private long maxPendingBytes = 256L << 20;
        private int checkpointFrames = 4000;
        private long snapshotAfterLogBytes = 256L << 20;
        private double snapshotLogFraction = 0.5;
        private Duration snapshotInterval = Duration.ofHours(24);
        private int readConnections = 4;
        private int pageSize = 4096;
        private Duration retryInitialBackoff = Duration.ofMillis(50);
        private Duration retryMaxBackoff = Duration.ofSeconds(5);
        private Duration closeTimeout = Duration.ofSeconds(60);
        private int keepDivergedCopies = 3;
        private long captureMemoryBytes = 4L << 20;
        private long streamWindowBytes = 8L << 20;
        private Encryption encryption;
        private CompactionPolicy compaction = CompactionPolicy.defaults();
        private Duration compactionInterval = Duration.ofMinutes(1);
        private InstantSource clock = InstantSource.system();
        private CaptureMode captureMode = CaptureMode.AUTO;
        private MeterRegistry meterRegistry;

        private Builder() {
        }

        private Builder(PrimaryOptions o) {
            durability = o.durability;
            flushInterval = o.flushInterval;
            groupCommitDelay = o.groupCommitDelay;
            flushBytes = o.flushBytes;
            maxSegmentBytes = o.maxSegmentBytes;
            maxPendingBytes = o.maxPendingBytes;
            checkpointFrames = o.checkpointFrames;
            snapshotAfterLogBytes = o.snapshotAfterLogBytes;
            snapshotLogFraction = o.snapshotLogFraction;
            snapshotInterval = o.snapshotInterval;
            readConnections = o.readConnections;
            pageSize = o.pageSize;
            retryInitialBackoff = o.retryInitialBackoff;
            retryMaxBackoff = o.retryMaxBackoff;
            closeTimeout = o.closeTimeout;
            keepDivergedCopies = o.keepDivergedCopies;
            captureMemoryBytes = o.captureMemoryBytes;
            streamWindowBytes = o.streamWindowBytes;
            encryption = o.encryption;
            compaction = o.compaction;
            compactionInterval = o.compactionInterval;
            clock = o.clock;
            captureMode = o.captureMode;
            meterRegistry = o.meterRegistry;
        }

        public Builder durability(Durability value) {
            durability = Objects.requireNonNull(value, "durability");
            return this;
        }

        public Builder flushInterval(Duration value) {
            flushInterval = positive("flushInterval", value);
            return this;
        }

        /** See {@link PrimaryOptions#groupCommitDelay()}; {@link Duration#ZERO} turns it off. */
        public Builder groupCommitDelay(Duration value) {
            Objects.requireNonNull(value, "groupCommitDelay");
            if (value.isNegative()) {
                throw new IllegalArgumentException("groupCommitDelay must not be negative: " + value);
            }
            groupCommitDelay = value;
            return this;
        }

        public Builder flushBytes(long value) {
            flushBytes = atLeast("flushBytes", value, 1);
            return this;
        }

        public Builder maxSegmentBytes(long value) {
            maxSegmentBytes = atLeast("maxSegmentBytes", value, 1);
            return this;
        }

        public Builder maxPendingBytes(long value) {
            maxPendingBytes = atLeast("maxPendingBytes", value, 1);
            return this;
        }

        public Builder checkpointFrames(int value) {
            checkpointFrames = (int) atLeast("checkpointFrames", value, 1);
            return this;
        }

        public Builder snapshotAfterLogBytes(long value) {
            snapshotAfterLogBytes = atLeast("snapshotAfterLogBytes", value, 0);
            return this;
        }

        public Builder snapshotLogFraction(double value) {
            if (!(value >= 0) || Double.isInfinite(value)) {
                throw new IllegalArgumentException("snapshotLogFraction must be >= 0: " + value);
            }
            snapshotLogFraction = value;
            return this;
        }

        public Builder snapshotInterval(Duration value) {
            snapshotInterval = positive("snapshotInterval", value);
            return this;
        }

        public Builder readConnections(int value) {
            readConnections = (int) atLeast("readConnections", value, 1);
            return this;
        }

        public Builder pageSize(int value) {
            if (!io.walship.internal.log.FormatLayout.isValidPageSize(value)) {
                throw new IllegalArgumentException("pageSize must be a power of two from 512 to 65536: " + value);
            }
            pageSize = value;
            return this;
        }

        public Builder retryInitialBackoff(Duration value) {
            retryInitialBackoff = positive("retryInitialBackoff", value);
            return this;
        }

        public Builder retryMaxBackoff(Duration value) {
            retryMaxBackoff = positive("retryMaxBackoff", value);
            return this;
        }

        /** How commits are captured: the native WAL hook, or the writer reading the WAL (see {@link CaptureMode}). */
        public Builder captureMode(CaptureMode value) {
            captureMode = Objects.requireNonNull(value, "captureMode");
            return this;
        }

        public Builder closeTimeout(Duration value) {
            closeTimeout = positive("closeTimeout", value);
            return this;
        }

        public Builder keepDivergedCopies(int value) {
            keepDivergedCopies = (int) atLeast("keepDivergedCopies", value, 0);
            return this;
        }

        public Builder captureMemoryBytes(long value) {
            captureMemoryBytes = atLeast("captureMemoryBytes", value, 0);
            return this;
        }

        public Builder streamWindowBytes(long value) {
            streamWindowBytes = atLeast("streamWindowBytes", value, 0);
            return this;
        }

        /** Encrypts everything stored (AES-256-GCM, see {@link Encryption}); {@code null}: plaintext. */
        public Builder encryption(Encryption value) {
            encryption = value;
            return this;
        }

        /**
         * Compaction and retention run by this primary in the background, on a low-priority
         * thread every {@link #compactionInterval}: default {@link CompactionPolicy#defaults()}
         * (7 days of restorable history). {@code null} turns it off, for when a
         * {@code walship compact} process (cron or sidecar) does it instead.
         */
        public Builder compaction(CompactionPolicy value) {
            compaction = value;
            return this;
        }

        public Builder compactionInterval(Duration value) {
            compactionInterval = positive("compactionInterval", value);
            return this;
        }

        public Builder clock(InstantSource value) {
            clock = Objects.requireNonNull(value, "clock");
            return this;
        }

        /**
         * Records the primary's meters (txid, lag to storage, ack latency, uploads, checkpoints,
         * storage requests; docs/METRICS.md) into {@code registry}, tagged with the database file
         * name. Needs {@code io.micrometer:micrometer-core} on the class path; null (the default)
         * records nothing.
         */
        public Builder meterRegistry(MeterRegistry registry) {
            meterRegistry = registry;
            return this;
        }

        /** @throws IllegalArgumentException when options contradict each other, naming both */
        public PrimaryOptions build() {
            if (retryMaxBackoff.compareTo(retryInitialBackoff) < 0) {
                throw new IllegalArgumentException("retryMaxBackoff (" + retryMaxBackoff
                        + ") must not be shorter than retryInitialBackoff (" + retryInitialBackoff + ")");
            }
            if (maxPendingBytes < flushBytes) {
                throw new IllegalArgumentException("maxPendingBytes (" + maxPendingBytes
                        + ") must not be smaller than flushBytes (" + flushBytes + ")");
            }
            return new PrimaryOptions(this);
        }

        private static Duration positive(String name, Duration value) {
            Objects.requireNonNull(value, name);
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + " must be positive: " + value);
            }
            return value;
        }

        private static long atLeast(String name, long value, long minimum) {
            if (value < minimum) {
                throw new IllegalArgumentException(name + " must be >= " + minimum + ": " + value);
            }
            return value;
        }
    }
}
