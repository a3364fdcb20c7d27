package io.walship.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's example runs and does what the README says, twice in the same directory. */
class QuickStartTest {
    @TempDir
    Path dir;

    @Test
    void main_shipsWritesAndReplicaReadsThem() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            QuickStart.main(new String[] {dir.toString()});
            QuickStart.main(new String[] {dir.toString()});
        } finally {
            System.setOut(original);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        assertThat(output).contains("primary committed and stored txid 2")
                .contains("replica at txid 2 reads 1 rows, latest: hello from txid 2")
                .contains("replica at txid 3 reads 2 rows, latest: hello from txid 3");
    }
}
