package io.walship.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RangedInputStreamTest {
    private final ExecutorService executor = Executors.newFixedThreadPool(3);

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    @Test
    void read_rangesInParallel_returnsObjectInOrder() throws IOException {
        byte[] object = new byte[1000];
        new Random(1).nextBytes(object);
        for (int rangeBytes : new int[] {1, 7, 100, 333, 999, 1000}) {
            try (InputStream in = new RangedInputStream(0, object.length, rangeBytes, 3, executor,
                    (from, to) -> new ByteArrayInputStream(Arrays.copyOfRange(object, (int) from, (int) to + 1)))) {
                assertThat(in.readAllBytes()).as("range %d", rangeBytes).isEqualTo(object);
            }
        }
    }

    /** Regression: a zero-length read at the end of a range reported the end of the whole object. */
    @Test
    void readAllBytes_rangesThatAreMultiplesOfTheReadBuffer_returnWholeObject() throws IOException {
        byte[] object = new byte[3 * 16384 + 5];
        new Random(2).nextBytes(object);
        try (InputStream in = new RangedInputStream(0, object.length, 16384, 2, executor,
                (from, to) -> new ByteArrayInputStream(Arrays.copyOfRange(object, (int) from, (int) to + 1)))) {
            assertThat(in.readAllBytes()).isEqualTo(object);
        }
    }

    @Test
    void read_shortRange_failsInsteadOfReturningAShorterObject() {
        byte[] object = new byte[100];
        assertThatThrownBy(() -> new RangedInputStream(0, 100, 30, 2, executor,
                (from, to) -> new ByteArrayInputStream(Arrays.copyOfRange(object, (int) from, (int) to))).readAllBytes())
                .isInstanceOf(IOException.class).hasMessageContaining("returned 29 bytes");
    }
}
