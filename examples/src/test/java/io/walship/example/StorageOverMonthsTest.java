package io.walship.example;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.testing.StandardOutput;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's storage-over-time example runs: 1,000 segments become a few objects, the middle restores. */
class StorageOverMonthsTest {
    @TempDir
    Path dir;

    @Test
    void main_compactsInTheBackground_andAnOldTxidStillRestoresExactly() throws Exception {
        String output = StandardOutput.of(StorageOverMonths::main, dir.toString());
        assertThat(output).contains("primary stored 1000 transactions, one segment each");
        Matcher objects = Pattern.compile("storage holds (\\d+) objects").matcher(output);
        assertThat(objects.find()).as(output).isTrue();
        assertThat(Integer.parseInt(objects.group(1))).as(output).isLessThanOrEqualTo(100);
        // txid 502: the table (txid 1) and 501 rows
        assertThat(output).contains("restored txid 502 from").contains("501 rows, as the primary had then");
    }
}
