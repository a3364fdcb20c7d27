package io.walship.testing;

/** Counts the JVM's live threads by name: an independent check of what a runtime says it runs. */
public final class LiveThreads {
    private LiveThreads() {
    }

    /** Live threads whose name starts with {@code prefix}. */
    public static long named(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }
}
