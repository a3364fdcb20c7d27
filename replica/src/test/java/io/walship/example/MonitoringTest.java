package io.walship.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docs/METRICS.md's example prints both statuses and the meters it names. */
class MonitoringTest {
    @TempDir
    Path dir;

    @Test
    void main_printsRunningStatusesAndPrometheusLines() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            Monitoring.main(new String[] {dir.toString()});
        } finally {
            System.setOut(original);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        assertThat(output).contains("PrimaryStatus[database=app.db, health=RUNNING, txid=101, storedTxid=101")
                .contains("ReplicaStatus[database=replica.db, health=RUNNING, txid=101")
                .contains("walship_primary_txid{db=\"app.db\"} 101.0")
                .contains("walship_replica_txid{db=\"replica.db\"} 101.0")
                .contains("walship_primary_ack_latency_seconds{db=\"app.db\",quantile=\"0.99\"}");
    }
}
