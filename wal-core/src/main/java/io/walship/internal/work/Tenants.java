package io.walship.internal.work;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The databases a runtime has open, by name, and the workers they share: what the replica
 * module needs of an {@code io.walship.Walship} without making it API.
 */
public final class Tenants {
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

    /**
     * Reserves {@code name} (a {@link #primary} or {@link #replica} key) for a database being opened.
     *
     * @throws IllegalStateException the name is open already, or the runtime is closed
     */
    public synchronized void claim(String name) {
        if (closed) {
            throw new IllegalStateException("the runtime is closed: open a new one to open " + name);
        }
        if (open.containsKey(name)) {
            throw new IllegalStateException("the " + name + " is open in this runtime already"
                    + " (close it first; two primaries of one name would share storage, two replicas one file)");
        }
        open.put(name, () -> {
        });
    }

    /**
     * The database claimed as {@code name} is open: closing the runtime closes it. False when the
     * runtime closed meanwhile: the caller closes the database and reports it.
     */
    public synchronized boolean opened(String name, AutoCloseable database) {
        if (closed) {
            return false;
        }
        open.put(name, database);
        return true;
    }

    /** The database {@code name} closed, or failed to open: the name is free again. */
    public synchronized void released(String name) {
        open.remove(name);
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
