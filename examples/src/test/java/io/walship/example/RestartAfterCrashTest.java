package io.walship.example;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.testing.StandardOutput;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's restart example runs and does what the README says. */
class RestartAfterCrashTest {
    @TempDir
    Path dir;

    @Test
    void main_killedChildsCommitsAreKeptAndShipped() throws Exception {
        String output = StandardOutput.of(RestartAfterCrash::main, dir.toString());
        assertThat(output).contains("child committed 1000 rows up to txid 1001, stored up to txid 0")
                .contains("child killed with SIGKILL")
                .contains("reopened: RESUMED, 1001 committed transactions storage lacked are being shipped,"
                        + " file read: false")
                .contains("stored up to txid 1001, 1000 rows in the table");
    }
}
