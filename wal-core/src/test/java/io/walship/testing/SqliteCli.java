package io.walship.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The {@code sqlite3} command line: an independent SQLite build used to check files. A test that
 * needs it is skipped, not failed, on a machine without it (a JDK and Maven are all the build
 * needs); CI installs it, so there every check runs.
 */
public final class SqliteCli {
    private SqliteCli() {
    }

    /** Runs {@code sql} against {@code db} and returns what sqlite3 printed (stdout and stderr). */
    public static String run(Path db, String sql) {
        List<String> command = new ArrayList<>(List.of("sqlite3", "-bail", db.toString(), sql));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            byte[] out = process.getInputStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("sqlite3 did not finish: " + command);
            }
            return new String(out, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            Assumptions.abort("the sqlite3 command line is not installed (apt-get install sqlite3): " + e.getMessage());
            throw new AssertionError(e); // not reached
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code PRAGMA integrity_check} as the CLI sees it; "ok" when the file is sound. */
    public static String integrityCheck(Path db) {
        return run(db, "PRAGMA integrity_check;");
    }
}
