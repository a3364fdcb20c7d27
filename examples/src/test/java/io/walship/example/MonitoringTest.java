package io.walship.example;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.testing.StandardOutput;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docs/METRICS.md's example prints both statuses and the meters it names. */
class MonitoringTest {
    @TempDir
    Path dir;

    @Test
    void main_printsRunningStatusesAndPrometheusLines() throws Exception {
        String output = StandardOutput.of(Monitoring::main, dir.toString());
        assertThat(output).contains("PrimaryStatus[database=app.db, health=RUNNING, txid=101, storedTxid=101")
                .contains("ReplicaStatus[database=replica.db, health=RUNNING, txid=101")
                .contains("walship_primary_txid{db=\"app.db\"} 101.0")
                .contains("walship_replica_txid{db=\"replica.db\"} 101.0")
                .contains("walship_primary_ack_latency_seconds{db=\"app.db\",quantile=\"0.99\"}");
    }
}
