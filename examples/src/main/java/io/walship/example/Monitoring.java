package io.walship.example;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.walship.Ack;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.replica.Replica;
import io.walship.replica.ReplicaOptions;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Duration;

/**
 * docs/METRICS.md's example: a primary and a replica recording into a Prometheus registry,
 * their status records, and the walship lines of the Prometheus text a scrape would get.
 *
 * <pre>java -cp examples/target/walship-examples.jar io.walship.example.Monitoring /tmp/walship-monitoring</pre>
 */
public final class Monitoring {
    private Monitoring() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "walship-monitoring");
        Files.createDirectories(dir);
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

        try (Primary primary = Primary.open(storage, dir.resolve("app.db"),
                PrimaryOptions.durable().toBuilder().meterRegistry(registry).build());
             Replica replica = Replica.open(storage, dir.resolve("replica.db"),
                     ReplicaOptions.builder().meterRegistry(registry).build())) {
            replica.follow();
            primary.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.execute("create table if not exists event(id integer primary key, at text)");
                }
            });
            Ack<Void> last = null;
            for (int i = 0; i < 100; i++) {
                last = primary.write(conn -> {
                    try (Statement s = conn.createStatement()) {
                        s.execute("insert into event(at) values (datetime('now'))");
                    }
                });
            }
            replica.awaitTxid(last.get(), Duration.ofSeconds(10));

            System.out.println(primary.status());
            System.out.println(replica.status());
            registry.scrape().lines()
                    .filter(line -> line.startsWith("walship_primary_txid") || line.startsWith("walship_replica_txid")
                            || line.startsWith("walship_primary_ack_latency_seconds{")
                            || line.startsWith("walship_replica_lag_seconds_max"))
                    .forEach(System.out::println);
        }
    }
}
