package io.walship.example;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.testing.StandardOutput;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's large-transaction example runs and does what the README says (small, in-process). */
class BulkLoadTest {
    @TempDir
    Path dir;

    @Test
    void main_bulkLoadAndVacuumAreStoredAndRestoredByteIdentical() throws Exception {
        assertThat(StandardOutput.of(BulkLoad::main, dir.toString(), "24"))
                .contains("bulk load of 24 MiB stored as txid 1")
                .contains("VACUUM stored as txid 3")
                .contains("restored txid 3, 12 MiB, byte-identical to the primary's file");
    }
}
