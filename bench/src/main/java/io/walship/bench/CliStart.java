package io.walship.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * cli_start_ms and cli_start_ms_cds: how long {@code bin/walship --version} takes as a whole
 * process (JVM start, class loading, picocli), without and with the launcher's class-data-sharing
 * archive; the median of 11 runs each, the archive written by one run before them. Run from the
 * repository root after {@code mvn -B -DskipTests install}; skipped (null) without the launcher or jar.
 */
final class CliStart {
    private static final int RUNS = 11;
    static final Path LAUNCHER = Path.of("bin", "walship");
    static final Path JAR = Path.of("walship-cli", "target", "walship.jar");

    private CliStart() {
    }

    static void measure(Measurements into) throws Exception {
        if (!Files.isExecutable(LAUNCHER) || !Files.exists(JAR)) {
            into.results.put("cli_start_ms", "null");
            into.results.put("cli_start_ms_cds", "null");
            into.notes.put("cli_start_ms", "skipped: run from the repository root after mvn -B -DskipTests install");
            return;
        }
        Path cache = BenchDatabase.tempDir("cli-cds");
        try {
            double plain = median(Map.of("WALSHIP_CDS", "off"));
            Map<String, String> cds = Map.of("WALSHIP_CACHE", cache.toString());
            run(cds); // writes the archive
            double shared = median(cds);
            into.results.put("cli_start_ms", Math.round(plain));
            into.results.put("cli_start_ms_cds", Math.round(shared));
            into.notes.put("cli_start_ms", "`bin/walship --version` as a whole process (the launcher runs short"
                    + " commands on the quick compiler only), median of " + RUNS + " runs, without the class-data-sharing"
                    + " archive (WALSHIP_CDS=off)");
            into.notes.put("cli_start_ms_cds", "as cli_start_ms, with the archive bin/walship keeps (written by one"
                    + " run before the " + RUNS + ")");
        } finally {
            BenchDatabase.delete(cache);
        }
    }

    private static double median(Map<String, String> environment) throws Exception {
        double[] millis = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            long started = System.nanoTime();
            run(environment);
            millis[i] = (System.nanoTime() - started) / 1e6;
        }
        Arrays.sort(millis);
        return millis[RUNS / 2];
    }

    private static void run(Map<String, String> environment) throws IOException, InterruptedException {
        Measurements.command(List.of(LAUNCHER.toString(), "--version"), environment);
    }
}
