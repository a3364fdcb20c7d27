package io.walship;

import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.SegmentSpill;
import io.walship.internal.work.Tenants;
import io.walship.internal.work.Workers;
import io.walship.storage.Storage;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A runtime for many databases in one JVM: one storage root, one set of bounded thread pools,
 * and each database under its own prefix of the root.
 *
 * <pre>{@code
 * try (Walship walship = Walship.open(S3Storage.builder().bucket("tenants").build())) {
 *     Primary acme = walship.openPrimary("acme", Path.of("/data/acme.db"), PrimaryOptions.durable());
 *     Primary initech = walship.openPrimary("initech", Path.of("/data/initech.db"), PrimaryOptions.durable());
 *     acme.write(conn -> ...);          // stored under acme/ of the bucket
 * }                                      // closes every database it opened
 * }</pre>
 *
 * <p>Replicas join the same runtime with {@code Replica.open(walship, name, path, options)}. The
 * storage of one database is {@link #storage(String)}: what {@code walship ls}, {@code restore}
 * and {@code follow} address as {@code <root>/<name>}. Thread-safe.
 */
public final class Walship implements AutoCloseable {
    /*
     * Threads do not grow with databases. Each database's background work is a lane (see
     * io.walship.internal.work.Lane) of a bounded pool: capture, uploads and follower polls,
     * maintenance, compaction. A lane holds no thread while it has nothing to do and arms no
     * timer unless something waits for time (an ASYNC segment's flush interval, a follower's
     * next poll, a compaction due after writes): an idle database costs no thread, no timer
     * and no storage request.
     *
     * Isolation. Everything a database owns (its file, lock, WAL, acks, failure state, pending
     * bytes and their memory budget) is its own, as with Primary.open; the pools and the
     * runtime's memory budget are the only things shared, and nothing waits on another
     * database: a failing one retries in its own lane, a fenced one stops alone. A database
     * whose storage hangs holds at most one IO thread, and at most its own memory budget; the
     * others go on with the rest of the pool, and their segments go to spill files once the
     * runtime's memory is taken (slower, never blocked).
     *
     * [1] docs/adr/0022-many-databases-one-runtime.md
     */
    private static final Logger log = LoggerFactory.getLogger(Walship.class);
    /** A database's name: one storage key segment, not one of walship's own top-level prefixes. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9_-][a-z0-9._-]{0,127}");
    private static final List<String> RESERVED = List.of(strip(ObjectKey.SNAPSHOT_PREFIX), strip(ObjectKey.LOG_PREFIX));

    static {
        Tenants.grant(runtime -> ((Walship) runtime).tenants);
    }

    /** What the captured segments of all a runtime's primaries hold in memory together, by default. */
    public static final long DEFAULT_CAPTURE_MEMORY_BYTES = 64L << 20;

    private final Storage root;
    private final Tenants tenants;
    /** The memory budget all its primaries' captured segments share. */
    private final SegmentSpill memory;

    private Walship(Storage root, Workers workers, long captureMemoryBytes) {
        this.root = root;
        this.tenants = new Tenants(workers);
        this.memory = SegmentSpill.shared(captureMemoryBytes);
    }

    /** A runtime over {@code root} with the default pools ({@link Threads#defaults()}) and memory budget. */
    public static Walship open(Storage root) {
        return open(root, Threads.defaults());
    }

    /** A runtime over {@code root} whose pools run at most {@code threads}, with the default memory budget. */
    public static Walship open(Storage root, Threads threads) {
        return open(root, threads, DEFAULT_CAPTURE_MEMORY_BYTES);
    }

    /**
     * A runtime over {@code root} whose pools run at most {@code threads}, and whose primaries'
     * captured segments (built, or waiting for storage) hold at most {@code captureMemoryBytes} of
     * memory together, each also within its own {@link PrimaryOptions#captureMemoryBytes()}.
     * Beyond it segments go to spill files beside their database: writers are not slowed, and
     * one database whose storage is down cannot take the memory of the others. Default
     * {@link #DEFAULT_CAPTURE_MEMORY_BYTES}; 0 puts every segment in a file.
     */
    public static Walship open(Storage root, Threads threads, long captureMemoryBytes) {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(threads, "threads");
        if (captureMemoryBytes < 0) {
            throw new IllegalArgumentException("captureMemoryBytes must be >= 0: " + captureMemoryBytes);
        }
        Workers workers = Workers.start("rt", new Workers.Sizes(threads.capture(), threads.io(),
                threads.maintenance(), threads.compaction()));
        log.info("runtime open storage={} threads={} captureMemoryBytes={}", root, threads, captureMemoryBytes);
        return new Walship(root, workers, captureMemoryBytes);
    }

    /**
     * The most threads each kind of work may use, whatever the number of databases.
     *
     * @param capture     reading commits from WALs (CPU)
     * @param io          uploads and follower polls (waits on storage)
     * @param maintenance snapshots and checkpoints
     * @param compaction  compaction and retention runs
     */
    public record Threads(int capture, int io, int maintenance, int compaction) {
        public Threads {
            if (capture < 1 || io < 1 || maintenance < 1 || compaction < 1) {
                throw new IllegalArgumentException("every pool needs at least one thread: " + capture + "/" + io
                        + "/" + maintenance + "/" + compaction);
            }
        }

        /** The cores for capture (at most 4), 16 for storage, 2 for maintenance, 1 for compaction. */
        public static Threads defaults() {
            return new Threads(Math.min(4, Runtime.getRuntime().availableProcessors()), 16, 2, 1);
        }

        /** The most threads these pools run at once, the timer included. */
        public int total() {
            return capture + io + maintenance + compaction + 1;
        }
    }

    /**
     * Opens the database {@code name} as a primary, stored under {@code name/} of the root; as
     * {@link Primary#open}, on the runtime's threads. Closing the primary frees the name.
     *
     * @throws IllegalArgumentException {@code name} is not a valid database name
     * @throws IllegalStateException    a database of that name is open in this runtime, or it is closed
     */
    public Primary openPrimary(String name, Path database, PrimaryOptions options) {
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(options, "options");
        checkName(name);
        return tenants.open(Tenants.primary(name), whenClosed -> {
            Primary primary = Primary.open(storage(name), database.toAbsolutePath().normalize(), options,
                    tenants.workers(), false, name, memory);
            primary.whenClosed(whenClosed);
            return primary;
        });
    }

    /** The storage of database {@code name}: the root's objects under {@code name/}. */
    public Storage storage(String name) {
        return root.under(checkName(name));
    }

    /** The names of the databases open in this runtime now. */
    public List<String> openDatabases() {
        return tenants.names();
    }

    /** Threads the runtime runs now (they end when idle); never more than {@link Threads#total()}. */
    public int threads() {
        return tenants.workers().threads();
    }

    /** Closes every database still open (each as its own close would), then the threads. The root stays open. */
    @Override
    public void close() {
        List<AutoCloseable> open = tenants.closeAll();
        for (AutoCloseable database : open) {
            try {
                database.close();
            } catch (Exception e) {
                log.warn("database did not close cleanly at runtime close db={} error={}", database, e.toString());
            }
        }
        tenants.workers().close();
        log.info("runtime closed databases={}", open.size());
    }

    /**
     * Returns {@code name} if it can name a database of a shared root.
     *
     * @throws IllegalArgumentException it cannot: what a name may be
     */
    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches() || RESERVED.contains(name)) {
            throw new IllegalArgumentException("invalid database name: " + name + " (a name is 1-128 of"
                    + " [a-z0-9._-], not starting with '.', and not " + String.join(" or ", RESERVED)
                    + ", which walship's own objects use)");
        }
        return name;
    }

    private static String strip(String prefix) {
        return prefix.substring(0, prefix.length() - 1);
    }

    @Override
    public String toString() {
        return "Walship[storage=" + root + ", databases=" + tenants.names().size() + "]";
    }
}
