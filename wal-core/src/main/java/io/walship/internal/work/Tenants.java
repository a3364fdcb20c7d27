package io.walship.internal.work;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The databases a runtime has open, by name, and the workers they share: what the replica
 * module needs of an {@code io.walship.Walship} without making it API.
 */
public final class Tenants {
    private static final Logger log = LoggerFactory.getLogger(Tenants.class);
    private static volatile Function<Object, Tenants> access;

    private final Workers workers;
    private final Map<String, AutoCloseable> open = new LinkedHashMap<>();
    private boolean closed;

    public Tenants(Workers workers) {
        this.workers = workers;
    }

    /** Called once, by the runtime class, to let {@link #of} reach its tenants. */
    public static void grant(Function<Object, Tenants> runtimeAccess) {
        access = Objects.requireNonNull(runtimeAccess);
    }

    /** The tenants of {@code runtime}, a {@code Walship}. */
    public static Tenants of(Object runtime) {
        return access.apply(runtime);
    }

    public Workers workers() {
        return workers;
    }

    /** The key a primary of {@code name} is open under: one per name. */
    public static String primary(String name) {
        return "primary " + name;
    }

    /** The key a replica of {@code name} at {@code file} is open under: one per name and file. */
    public static String replica(String name, java.nio.file.Path file) {
        return "replica " + name + " " + file;
    }

    /** Opens one database; {@code whenClosed} is to run once it has closed (it frees its key). */
    public interface Opener<T extends AutoCloseable> {
        T open(Runnable whenClosed);
    }

    /**
     * Opens a database under {@code key} (a {@link #primary} or {@link #replica} key): reserved
     * while it opens, freed if opening fails or once it closes; closing the runtime closes it.
     *
     * @throws IllegalStateException the key is open already, or the runtime is closed
     */
    public <T extends AutoCloseable> T open(String key, Opener<T> opener) {
        claim(key);
        try {
            T database = opener.open(() -> released(key));
            if (!opened(key, database)) {
                try {
                    database.close();
                } catch (Exception e) {
                    log.warn("database not closed cleanly db={} error={}", key, e.toString());
                }
                throw new IllegalStateException("the runtime closed while the " + key + " was opening");
            }
            return database;
        } catch (RuntimeException e) {
            released(key);
            throw e;
        }
    }

    private synchronized void claim(String key) {
        if (closed) {
            throw new IllegalStateException("the runtime is closed: open a new one to open " + key);
        }
        if (open.containsKey(key)) {
            throw new IllegalStateException("the " + key + " is open in this runtime already"
                    + " (close it first; two primaries of one name would share storage, two replicas one file)");
        }
        open.put(key, () -> {
        });
    }

    /** False when the runtime closed while the database was opening. */
    private synchronized boolean opened(String key, AutoCloseable database) {
        if (closed) {
            return false;
        }
        open.put(key, database);
        return true;
    }

    private synchronized void released(String key) {
        open.remove(key);
    }

    /** The database names open now, primaries and replicas, each once. */
    public synchronized List<String> names() {
        return open.keySet().stream().map(key -> key.split(" ")[1]).distinct().toList();
    }

    /** Refuses new databases and hands back those open, for the runtime to close. */
    public synchronized List<AutoCloseable> closeAll() {
        closed = true;
        return new ArrayList<>(open.values());
    }
}
