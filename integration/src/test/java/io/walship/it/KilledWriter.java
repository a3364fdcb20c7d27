package io.walship.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Durability;
import io.walship.testing.ChildJvm;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Runs {@link WriteThenWait} in a child JVM and SIGKILLs it once it has written everything. */
public final class KilledWriter {
    private KilledWriter() {
    }

    /** @return the txid of the last transaction the child committed */
    public static long afterWriting(Path storageDir, Path db, Durability durability, int rows) throws Exception {
        Process child = ChildJvm.start(ProcessBuilder.Redirect.PIPE, WriteThenWait.class.getName(),
                storageDir.toString(), db.toString(), durability.name(), Integer.toString(rows));
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line = out.readLine();
            assertThat(line).as("child output").startsWith("DONE ");
            child.toHandle().destroyForcibly(); // SIGKILL: no close, no flush, no checkpoint
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            return Long.parseLong(line.substring(5));
        } finally {
            child.destroyForcibly();
        }
    }
}
