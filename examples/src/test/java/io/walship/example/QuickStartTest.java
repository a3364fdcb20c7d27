package io.walship.example;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.testing.StandardOutput;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's example runs and does what the README says, twice in the same directory. */
class QuickStartTest {
    @TempDir
    Path dir;

    @Test
    void main_shipsWritesAndReplicaReadsThem() throws Exception {
        String output = StandardOutput.of(QuickStart::main, dir.toString())
                + StandardOutput.of(QuickStart::main, dir.toString());
        assertThat(output).contains("primary committed and stored txid 2")
                .contains("replica at txid 2 reads 1 rows, latest: hello from txid 2")
                .contains("replica at txid 3 reads 2 rows, latest: hello from txid 3");
    }
}
