package io.walship.it;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Ack;
import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.replica.Replica;
import io.walship.replica.ReplicaOptions;
import io.walship.storage.s3.S3ProxyServer;
import io.walship.storage.s3.S3Storage;
import io.walship.testing.Rows;
import io.walship.testing.SqliteCli;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A primary writing to an S3-compatible server while a replica restores and follows from it,
 * and what it costs in requests: PUT, GET and LIST per 1000 transactions.
 */
class S3EndToEndTest {
    private static final Logger log = LoggerFactory.getLogger(S3EndToEndTest.class);
    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    @TempDir
    Path dir;



    /** Counts requests by kind (HTTP method, and LIST as a GET on the bucket). */
    static final class RequestCounter implements ExecutionInterceptor {
        final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            var request = context.httpRequest();
            String kind = request.method().name();
            if (kind.equals("GET") && request.rawQueryParameters().containsKey("list-type")) {
                kind = "LIST";
            }
            counts.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
        }

        long get(String kind) {
            return counts.getOrDefault(kind, new AtomicLong()).get();
        }

        void reset() {
            counts.clear();
        }
    }

    private static S3Client countingClient(RequestCounter counter) {
        return S3Client.builder().endpointOverride(server.endpoint()).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(server.credentials()).httpClientBuilder(ApacheHttpClient.builder())
                .overrideConfiguration(o -> o.addExecutionInterceptor(counter)).build();
    }

    @Test
    void primaryOnS3_replicaRestoresAndFollows_readersSeeWholeTransactions() throws Exception {
        String bucket = server.createBucket();
        try (S3Storage storage = server.storage(bucket).prefix("shop").open();
             Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> {
                exec(conn, "create table account(id integer primary key, balance int)");
                for (int i = 0; i < 5; i++) {
                    exec(conn, "insert into account values (" + i + ", 200)");
                }
            }).get();
            try (S3Storage replicaStorage = server.storage(bucket).prefix("shop").open();
                 Replica replica = Replica.open(replicaStorage, dir.resolve("replica.db"),
                         ReplicaOptions.builder().pollInterval(Duration.ofMillis(5)).build())) {
                replica.follow();
                // a reader on its own thread checks the invariant while transfers are applied under it
                java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean(true);
                java.util.concurrent.CompletableFuture<Integer> reads = java.util.concurrent.CompletableFuture
                        .supplyAsync(() -> {
                            int count = 0;
                            try {
                                while (writing.get() || count < 50) {
                                    long sum = replica.read(conn -> queryLong(conn, "select sum(balance) from account"));
                                    assertThat(sum).as("read %d saw half a transfer", count).isEqualTo(1000);
                                    count++;
                                }
                            } catch (java.sql.SQLException e) {
                                throw new AssertionError(e);
                            }
                            return count;
                        });
                long last = 0;
                for (int i = 0; i < 200; i++) {
                    int from = i % 5;
                    int to = (i * 3) % 5;
                    last = primary.write(conn -> {
                        exec(conn, "update account set balance = balance - 7 where id = " + from);
                        exec(conn, "update account set balance = balance + 7 where id = " + to);
                    }).txid();
                }
                primary.flush().get();
                writing.set(false);
                assertThat(reads.get(60, java.util.concurrent.TimeUnit.SECONDS)).isGreaterThanOrEqualTo(50);
                assertThat(replica.awaitTxid(last, Duration.ofSeconds(30))).isTrue();
                String fingerprint = replica.read(Rows::fingerprint);
                assertThat(fingerprint).isEqualTo(primary.read(Rows::fingerprint));
            }
        }
        assertThat(SqliteCli.integrityCheck(dir.resolve("replica.db"))).isEqualTo("ok");
    }

    @Test
    void requestsPerThousandTransactions_areReported() throws Exception {
        int txns = 1000;
        StringBuilder report = new StringBuilder();
        for (Durability durability : Durability.values()) {
            String bucket = server.createBucket();
            RequestCounter counter = new RequestCounter();
            try (S3Client client = countingClient(counter);
                 S3Storage storage = S3Storage.builder(bucket).prefix("cost").client(client).open();
                 Primary primary = Primary.open(storage, dir.resolve(durability + ".db"),
                         PrimaryOptions.builder().durability(durability).build())) {
                primary.write(conn -> exec(conn, "create table t(x)")).get();
                counter.reset();
                Ack<Void> ack = null;
                for (int i = 0; i < txns; i++) {
                    int v = i;
                    ack = primary.write(conn -> exec(conn, "insert into t values (" + v + ")"));
                }
                ack.get();
                report.append(String.format("%s: PUT=%d GET=%d LIST=%d per %d txn; ", durability, counter.get("PUT"),
                        counter.get("GET"), counter.get("LIST"), txns));
                // acks not awaited one by one: DURABLE packs what arrives during each upload (measured: 9), ASYNC
                // flushes every second or 4 MiB (measured: 1)
                assertThat(counter.get("PUT")).as(durability + " PUTs per " + txns + " transactions")
                        .isBetween(1L, durability == Durability.DURABLE ? txns / 5L : 10L);
                assertThat(counter.get("LIST")).as("no LIST on the write path").isZero();

                if (durability == Durability.DURABLE) {
                    RequestCounter replicaCounter = new RequestCounter();
                    try (S3Client replicaClient = countingClient(replicaCounter);
                         S3Storage replicaStorage = S3Storage.builder(bucket).prefix("cost").client(replicaClient)
                                 .open();
                         Replica replica = Replica.open(replicaStorage, dir.resolve("replica.db"),
                                 ReplicaOptions.builder().pollInterval(Duration.ofMillis(500))
                                         .maxIdlePollInterval(Duration.ofMillis(500)).build())) { // fixed: one GET a poll
                        replica.follow();
                        assertThat(replica.awaitTxid(ack.txid(), Duration.ofSeconds(30))).isTrue();
                        while (replica.status().lastPollAt().isEmpty()) {
                            Thread.sleep(10); // the follower's first poll also looks for compacted objects
                        }
                        replicaCounter.reset();
                        Thread.sleep(3000); // idle: nothing new to apply
                        report.append(String.format("idle follower (poll 500 ms): GET=%d HEAD=%d LIST=%d in 3 s; ",
                                replicaCounter.get("GET"), replicaCounter.get("HEAD"), replicaCounter.get("LIST")));
                        assertThat(replicaCounter.get("LIST")).as("no LIST while following").isZero();
                        assertThat(replicaCounter.get("HEAD")).as("one request a poll: a ranged GET").isZero();
                        assertThat(replicaCounter.get("GET")).isBetween(3L, 10L);
                    }
                }
            }
        }
        log.info("s3 requests {}", report);
    }
}
