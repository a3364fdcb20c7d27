package io.walship.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's large-transaction example runs and does what the README says (small, in-process). */
class BulkLoadTest {
    @TempDir
    Path dir;

    @Test
    void main_bulkLoadAndVacuumAreStoredAndRestoredByteIdentical() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            BulkLoad.main(new String[] {dir.toString(), "24"});
        } finally {
            System.setOut(original);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8))
                .contains("bulk load of 24 MiB stored as txid 1")
                .contains("VACUUM stored as txid 3")
                .contains("restored txid 3, 12 MiB, byte-identical to the primary's file");
    }
}
