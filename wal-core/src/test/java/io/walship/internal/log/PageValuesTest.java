package io.walship.internal.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class PageValuesTest {
    @Test
    void putsGetsAndRetains_asAMapOfPageNumbersDoes() {
        Random random = new Random(3);
        PageValues pages = new PageValues();
        Map<Integer, Long> expected = new HashMap<>();
        for (int round = 0; round < 20; round++) {
            // runs of consecutive pages (a transaction growing the database) and scattered ones
            int start = 1 + random.nextInt(1 << 22);
            for (int i = 0; i < 15_000; i++) {
                int pgno = random.nextBoolean() ? start + i : 1 + random.nextInt(Integer.MAX_VALUE - 1);
                long value = random.nextLong();
                pages.put(pgno, value);
                expected.put(pgno, value);
            }
            if (round % 4 == 3) { // a transaction that cuts the database
                int cut = random.nextInt(1 << 22);
                pages.retain(pgno -> pgno <= cut);
                expected.keySet().removeIf(pgno -> pgno > cut);
            }
            assertThat(pages.size()).isEqualTo(expected.size());
            for (int probe = 0; probe < 2_000; probe++) {
                int pgno = 1 + random.nextInt(1 << 22);
                assertThat(pages.contains(pgno)).isEqualTo(expected.containsKey(pgno));
                assertThat(pages.get(pgno, -7)).isEqualTo(expected.getOrDefault(pgno, -7L));
            }
        }
        for (Map.Entry<Integer, Long> entry : expected.entrySet()) {
            assertThat(pages.get(entry.getKey(), 0)).as("page %d", entry.getKey()).isEqualTo(entry.getValue());
        }
        assertThat(pages.pages()).containsExactly(new TreeMap<>(expected).keySet().stream()
                .mapToInt(Integer::intValue).toArray());
    }

    @Test
    void pageZero_isRefused() {
        assertThatThrownBy(() -> new PageValues().put(0, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
