package io.walship.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Durability;
import io.walship.testing.ChildJvm;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Runs a child JVM ({@link WriteThenWait}, {@link FoldThenWait}) and SIGKILLs it once it has written everything. */
public final class KilledWriter {
    private KilledWriter() {
    }

    /** @return the txid of the last transaction the child committed */
    public static long afterWriting(Path storageDir, Path db, Durability durability, int rows) throws Exception {
        return afterDone(WriteThenWait.class, storageDir.toString(), db.toString(), durability.name(),
                Integer.toString(rows));
    }

    /**
     * Runs {@code child} in a child JVM and SIGKILLs it once it prints {@code DONE <txid>}.
     *
     * @return that txid
     */
    public static long afterDone(Class<?> child, String... args) throws Exception {
        Process process = ChildJvm.start(ProcessBuilder.Redirect.PIPE, child.getName(), args);
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line = out.readLine();
            assertThat(line).as("child output").startsWith("DONE ");
            process.toHandle().destroyForcibly(); // SIGKILL: no close, no flush, no checkpoint
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            return Long.parseLong(line.substring(5));
        } finally {
            process.destroyForcibly();
        }
    }
}
