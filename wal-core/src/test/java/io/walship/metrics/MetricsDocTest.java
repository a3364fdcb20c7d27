package io.walship.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** docs/METRICS.md lists exactly the meters of {@link WalshipMeter}, each with its type, unit and tags. */
class MetricsDocTest {
    private static final Path METRICS_MD = Path.of("..", "docs", "METRICS.md");

    @Test
    void metricsMd_listsEveryMeterWithItsTypeUnitAndTags_andNoOther() throws IOException {
        Map<String, WalshipMeter> byName = Arrays.stream(WalshipMeter.values())
                .collect(Collectors.toMap(WalshipMeter::meterName, Function.identity()));
        Set<String> listed = new HashSet<>();
        for (String line : Files.readAllLines(METRICS_MD)) {
            if (!line.startsWith("| `walship.")) {
                continue;
            }
            // | meter | Prometheus series | type | unit | tags | what it says | alert when |
            String[] cells = Arrays.stream(line.split("\\|", -1)).map(c -> c.replace("`", "").trim())
                    .toArray(String[]::new);
            String name = cells[1];
            WalshipMeter meter = byName.get(name);
            assertThat(meter).as("METRICS.md lists %s, which the code does not have", name).isNotNull();
            assertThat(cells[3]).as("type of %s", name).isEqualTo(meter.type().name().toLowerCase(Locale.ROOT));
            assertThat(cells[4]).as("unit of %s", name).isEqualTo(meter.unit());
            assertThat(cells[5]).as("tags of %s", name).isEqualTo(meter.tags());
            assertThat(cells[2]).as("Prometheus series of %s", name).startsWith(name.replace('.', '_'));
            listed.add(name);
        }
        assertThat(listed).as("meters in METRICS.md").containsExactlyInAnyOrderElementsOf(byName.keySet());
    }
}
