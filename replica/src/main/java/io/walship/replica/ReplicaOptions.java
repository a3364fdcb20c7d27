package io.walship.replica;

import io.micrometer.core.instrument.MeterRegistry;
import io.walship.encryption.Encryption;
import java.time.Duration;
import java.net.URI;
import java.time.InstantSource;
import java.util.Objects;
import java.util.Optional;

/** How a {@link Replica} follows storage. Immutable; see {@link #builder()}. */
public final class ReplicaOptions {
    private final Duration pollInterval;
    private final Duration maxErrorBackoff;
    /** As set, null for the default (which follows pollInterval, also through toBuilder()). */
    private final Duration maxIdlePollInterval;
    private final int readConnections;
    private final Encryption encryption;
    private final MeterRegistry meterRegistry;
    private final InstantSource clock;
    private final URI stream;
    private final String streamToken;
    private final javax.net.ssl.SSLContext streamTls;
    private final boolean applyUnstored;
    private final Duration unstoredTimeout;
    private final boolean replaceForeignFile;

    private ReplicaOptions(Builder b) {
        this.pollInterval = b.pollInterval;
        this.maxErrorBackoff = b.maxErrorBackoff;
        this.maxIdlePollInterval = b.maxIdlePollInterval;
        this.readConnections = b.readConnections;
        this.encryption = b.encryption;
        this.meterRegistry = b.meterRegistry;
        this.clock = b.clock;
        this.stream = b.stream;
        this.streamToken = b.streamToken;
        this.streamTls = b.streamTls;
        this.applyUnstored = b.applyUnstored;
        this.replaceForeignFile = b.replaceForeignFile;
        this.unstoredTimeout = b.unstoredTimeout;
    }

    private static final Duration DEFAULT_MAX_IDLE_POLL = Duration.ofSeconds(2);

    /** Polls every 25 ms after a change, backing off to every 2 s while idle; four read connections. */
    public static ReplicaOptions defaults() {
        return builder().build();
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these options; the setters are documented on the getters of the same name. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * How long a follower waits before asking for the next segment again right after it found
     * one. Each ask is one GET. While nothing new appears the wait doubles, up to
     * {@link #maxIdlePollInterval()}, and falls back to this at the next change.
     */
    public Duration pollInterval() {
        return pollInterval;
    }

    /**
     * The longest wait between two polls of an idle follower: what an idle follower costs (one
     * GET per interval; at the default 2 s, 30 a minute, about 1.3 million a month, $0.52 at
     * S3 Standard's $0.0004 per 1,000 GETs) and how late it sees the first write after a quiet
     * spell (at most this; file storage's watch and the live stream tell it at once). Default:
     * 2 s, or {@link #pollInterval()} if that is longer; equal to it, polling is fixed.
     */
    public Duration maxIdlePollInterval() {
        if (maxIdlePollInterval != null) {
            return maxIdlePollInterval;
        }
        return DEFAULT_MAX_IDLE_POLL.compareTo(pollInterval) >= 0 ? DEFAULT_MAX_IDLE_POLL : pollInterval;
    }

    /** Longest wait between retries after a bad segment or a storage error. */
    public Duration maxErrorBackoff() {
        return maxErrorBackoff;
    }

    /** How the storage it follows is encrypted (the primary's keys, or those to read it), or empty: plaintext. */
    public Optional<Encryption> encryption() {
        return Optional.ofNullable(encryption);
    }

    /** Size of the read-only connection pool behind {@link Replica#read}. */
    public int readConnections() {
        return readConnections;
    }

    /** Where the replica's meters go (docs/METRICS.md); null: no metrics, and Micrometer not needed. */
    public MeterRegistry meterRegistry() {
        return meterRegistry;
    }

    /** The time of applies, polls, lag and errors ({@link Replica#status()}, meters). */
    public InstantSource clock() {
        return clock;
    }

    /**
     * The primary's live stream ({@code Primary.serveStream}) a following replica applies
     * transactions from as soon as they are stored, without asking storage; empty: storage only.
     * Whenever the stream is down, behind or damaged, the replica reads storage as without it, and
     * connects again.
     */
    public Optional<URI> stream() {
        return Optional.ofNullable(stream);
    }

    /**
     * Whether the replica applies what the stream sends before the primary has stored it (false
     * by default: only stored transactions). Fresher by the store's latency, at a documented
     * risk: a transaction the primary then loses (it crashed, or was fenced, before storing it)
     * has been visible here and is taken back - readers see the replica's txid go back, listeners
     * get a batch marked {@link AppliedBatch#takenBack()}. Such transactions are confirmed by the
     * connection that sent them reporting them stored, or by storage holding their txid with the
     * same checksum; see docs/STREAM.md.
     */
    public boolean applyUnstored() {
        return applyUnstored;
    }

    /**
     * How long transactions applied before they were stored may stay unconfirmed once the
     * connection that sent them is gone: storage holding them (the primary, restarted, stores
     * what its WAL kept) confirms them; past this they are taken back. 5 seconds by default.
     */
    public Duration unstoredTimeout() {
        return unstoredTimeout;
    }

    /**
     * Whether {@link Replica#open} may move aside a file at its path that is not this storage's
     * replica (a database that is no replica, a replica of another history) and restore in its
     * place; false by default: it refuses with {@link ForeignFileException} and changes nothing.
     * A primary's database is never moved either way.
     */
    public boolean replaceForeignFile() {
        return replaceForeignFile;
    }

    /** The token the stream asks for; never logged. */
    /** The TLS context of a walships:// stream; null: the JVM's default. */
    javax.net.ssl.SSLContext streamTls() {
        return streamTls;
    }

    String streamToken() {
        return streamToken;
    }

    @Override
    public String toString() {
        return "ReplicaOptions[pollInterval=" + pollInterval + ", maxIdlePollInterval=" + maxIdlePollInterval()
                + ", maxErrorBackoff=" + maxErrorBackoff
                + ", readConnections=" + readConnections + ", metrics=" + (meterRegistry != null)
                + ", stream=" + stream + ", applyUnstored=" + applyUnstored + ", replaceForeignFile="
                + replaceForeignFile + ", encryption=" + encryption + "]";
    }

    /** Builds {@link ReplicaOptions}; each setter checks its value at once. */
    public static final class Builder {
        private Duration pollInterval = Duration.ofMillis(25);
        private Duration maxErrorBackoff = Duration.ofSeconds(10);
        /** Null: the default, 2 s or the poll interval if longer. */
        private Duration maxIdlePollInterval;
        private int readConnections = 4;
        private Encryption encryption;
        private MeterRegistry meterRegistry;
        private InstantSource clock = InstantSource.system();
        private URI stream;
        private String streamToken;
        private javax.net.ssl.SSLContext streamTls;
        private boolean applyUnstored;
        private Duration unstoredTimeout = Duration.ofSeconds(5);
        private boolean replaceForeignFile;

        private Builder() {
        }

        private Builder(ReplicaOptions o) {
            pollInterval = o.pollInterval;
            maxErrorBackoff = o.maxErrorBackoff;
            maxIdlePollInterval = o.maxIdlePollInterval;
            readConnections = o.readConnections;
            encryption = o.encryption;
            meterRegistry = o.meterRegistry;
            clock = o.clock;
            stream = o.stream;
            streamToken = o.streamToken;
            streamTls = o.streamTls;
            applyUnstored = o.applyUnstored;
            unstoredTimeout = o.unstoredTimeout;
            replaceForeignFile = o.replaceForeignFile;
        }

        /** See {@link ReplicaOptions#replaceForeignFile()}. */
        public Builder replaceForeignFile(boolean value) {
            replaceForeignFile = value;
            return this;
        }

        /** Needs a {@link #stream}: without one nothing unstored ever arrives. */
        public Builder applyUnstored(boolean value) {
            applyUnstored = value;
            return this;
        }

        public Builder unstoredTimeout(Duration value) {
            unstoredTimeout = positive("unstoredTimeout", value);
            return this;
        }

        /**
         * Follows the primary's live stream at {@code uri}, {@code walships://host:port} over TLS or
         * {@code walship://host:port} over plain TCP (what {@code StreamServer.uri()} says), sending
         * {@code token}; null turns it off. Over TLS the server's certificate and host name are
         * checked against {@link #streamTls} (the JVM's default trust store when not set).
         */
        public Builder stream(URI uri, String token) {
            if (uri != null && (token == null || token.isBlank())) {
                throw new IllegalArgumentException("a stream needs the token its primary serves it with");
            }
            if (uri != null && (!("walship".equals(uri.getScheme()) || "walships".equals(uri.getScheme()))
                    || uri.getHost() == null || uri.getPort() < 1 || uri.getPort() > 65535)) {
                throw new IllegalArgumentException("a stream URI is walships://host:port (TLS) or walship://host:port"
                        + " (plain TCP) with a port from 1 to 65535, got " + uri);
            }
            stream = uri;
            streamToken = uri == null ? null : token;
            return this;
        }

        /**
         * The TLS context of a {@code walships://} stream: its trust managers check the primary's
         * certificate, its key managers present the replica's own when the primary asks for one.
         * Null: the JVM's default context.
         */
        public Builder streamTls(javax.net.ssl.SSLContext value) {
            streamTls = value;
            return this;
        }

        /**
         * The clock the replica reads for status and meters (applied at, last poll, lag against the
         * primary's commit times); the system clock by default, a fixed one in tests.
         */
        public Builder clock(InstantSource value) {
            clock = java.util.Objects.requireNonNull(value, "clock");
            return this;
        }

        public Builder pollInterval(Duration value) {
            pollInterval = positive("pollInterval", value);
            return this;
        }

        public Builder maxIdlePollInterval(Duration value) {
            maxIdlePollInterval = positive("maxIdlePollInterval", value);
            return this;
        }

        public Builder maxErrorBackoff(Duration value) {
            maxErrorBackoff = positive("maxErrorBackoff", value);
            return this;
        }

        /** Decrypts what it reads from storage with these keys ({@link Encryption}); {@code null}: plaintext. */
        public Builder encryption(Encryption value) {
            encryption = value;
            return this;
        }

        public Builder readConnections(int value) {
            if (value < 1) {
                throw new IllegalArgumentException("readConnections must be >= 1: " + value);
            }
            readConnections = value;
            return this;
        }

        /**
         * Records the replica's meters (txid, lag, apply time, errors, storage requests;
         * docs/METRICS.md) into {@code registry}, tagged with the replica file name. Needs
         * {@code io.micrometer:micrometer-core} on the class path; null (the default) records nothing.
         */
        public Builder meterRegistry(MeterRegistry registry) {
            meterRegistry = registry;
            return this;
        }

        /** The options, checked. */
        public ReplicaOptions build() {
            if (maxErrorBackoff.compareTo(pollInterval) < 0) {
                throw new IllegalArgumentException("maxErrorBackoff (" + maxErrorBackoff
                        + ") must not be shorter than pollInterval (" + pollInterval + ")");
            }
            if (maxIdlePollInterval != null && maxIdlePollInterval.compareTo(pollInterval) < 0) {
                throw new IllegalArgumentException("maxIdlePollInterval (" + maxIdlePollInterval
                        + ") must not be shorter than pollInterval (" + pollInterval + ")");
            }
            if (applyUnstored && stream == null) {
                throw new IllegalArgumentException("applyUnstored needs a stream: only the primary's live stream"
                        + " sends transactions before they are stored");
            }
            return new ReplicaOptions(this);
        }

        private static Duration positive(String name, Duration value) {
            Objects.requireNonNull(value, name);
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + " must be positive: " + value);
            }
            return value;
        }
    }
}
