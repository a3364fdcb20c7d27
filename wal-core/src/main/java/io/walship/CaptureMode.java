package io.walship;

/**
 * How a primary learns of each commit of its writer connection (docs/NATIVE.md).
 *
 * <p>Both modes capture the same transactions into the same segments; they differ in what
 * they need and in how a write's work that tampers with the WAL is met.
 */
public enum CaptureMode {
    /**
     * {@link #WAL_HOOK} where walship ships the hook for the platform, else {@link #WRITER}. The
     * system property {@code walship.capture} ({@code wal_hook} or {@code writer}) picks one for
     * every primary of the JVM that says AUTO (used to run the test suites in both modes).
     */
    AUTO,
    /**
     * SQLite's WAL hook, a small native extension: each commit is reported inside SQLite's commit,
     * and its authorizer refuses {@code PRAGMA wal_checkpoint}, {@code wal_autocheckpoint},
     * {@code journal_mode} and {@code locking_mode} in a write's work. {@link Primary#open} fails
     * where no hook is shipped for the platform.
     */
    WAL_HOOK,
    /**
     * No native code: the primary owns its writer, so after each write it reads the commit frames
     * the WAL gained (salts bound them; the capture lane checks the checksum chain as in the
     * other mode). A checkpoint or journal-mode change made by a write's work is detected after
     * the write, not refused: the primary fails loudly, keeping every committed transaction.
     */
    WRITER
}
