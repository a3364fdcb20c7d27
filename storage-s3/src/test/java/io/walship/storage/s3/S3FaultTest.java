package io.walship.storage.s3;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.Ack;
import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.storage.PutResult;
import io.walship.storage.StorageException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import java.io.InputStream;
import java.util.Optional;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** A primary on S3 while the store throttles, fails and stalls: acks wait, nothing is lost. */
class S3FaultTest {
    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    @TempDir
    Path dir;



    private static S3Client client(ExecutionInterceptor interceptor, int maxAttempts) {
        return client(interceptor, maxAttempts, Duration.ofSeconds(30));
    }

    private static S3Client client(ExecutionInterceptor interceptor, int maxAttempts, Duration attemptTimeout) {
        return S3Client.builder().endpointOverride(server.endpoint()).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(server.credentials()).httpClientBuilder(ApacheHttpClient.builder())
                .overrideConfiguration(o -> o.addExecutionInterceptor(interceptor)
                        .retryStrategy(r -> r.maxAttempts(maxAttempts)).apiCallAttemptTimeout(attemptTimeout))
                .build();
    }

    private static PrimaryOptions fastRetry(Durability durability) {
        return PrimaryOptions.builder().durability(durability).flushInterval(Duration.ofMillis(5))
                .retryInitialBackoff(Duration.ofMillis(1)).retryMaxBackoff(Duration.ofMillis(20)).build();
    }

    @Test
    void write_putsTimingOutAfterTheyLanded_everyAckCompletesNothingLostNoFalseFencing() throws Exception {
        String bucket = server.createBucket();
        FaultInjector slow = new FaultInjector(11, 0, 0,
                r -> r.method() == SdkHttpMethod.PUT && !r.encodedPath().contains(".walship-probe"))
                .slowResponses(0.3, 1_000);
        List<Ack<Void>> acks = new ArrayList<>();
        try (S3Client client = client(slow, 1, Duration.ofMillis(300));
             S3Storage s3 = S3Storage.builder(bucket).client(client).open();
             Primary primary = Primary.open(s3, dir.resolve("slow.db"), fastRetry(Durability.DURABLE))) {
            primary.write(conn -> exec(conn, "create table t(n int)")).get();
            for (int i = 1; i <= 40; i++) {
                int n = i;
                acks.add(primary.write(conn -> exec(conn, "insert into t values (" + n + ")")));
                if (n % 2 == 0) {
                    acks.get(acks.size() - 1).get();
                }
            }
            for (Ack<Void> ack : acks) {
                ack.get();
            }
        }
        assertThat(slow.injected.get()).as("timed-out puts").isGreaterThan(3);
        try (S3Storage clean = server.storage(bucket).open()) {
            Path restored = Restore.run(clean, dir.resolve("slow-restored.db"), RestoreTarget.latest()).path();
            assertThat(queryLong(restored, "select count(*) from t")).isEqualTo(40);
            assertThat(queryLong(restored, "select sum(n) from t")).isEqualTo(40 * 41 / 2);
        }
    }

    @Test
    void write_storeFailingAQuarterOfPuts_everyAckCompletesAndRestoreHasAll() throws Exception {
        String bucket = server.createBucket();
        // the open-time probe is spared: its own fault case is open_probePutLandedButAnsweredWithAnError_opens
        FaultInjector faults = new FaultInjector(7, 0.25, 5,
                r -> r.method() == SdkHttpMethod.PUT && !r.encodedPath().contains(".walship-probe"));
        try (S3Client client = client(faults, 2)) {
            for (Durability durability : Durability.values()) {
                String prefix = durability.name().toLowerCase();
                try (S3Storage s3 = S3Storage.builder(bucket).prefix(prefix).client(client).open();
                     Primary primary = Primary.open(s3, dir.resolve(prefix + ".db"), fastRetry(durability))) {
                    primary.write(conn -> exec(conn, "create table t(n int)"));
                    List<Ack<Void>> acks = new ArrayList<>();
                    for (int i = 1; i <= 150; i++) {
                        int n = i;
                        acks.add(primary.write(conn -> exec(conn, "insert into t values (" + n + ")")));
                        if (n % 5 == 0) {
                            acks.get(acks.size() - 1).get();
                        }
                    }
                    long previous = 0;
                    for (Ack<Void> ack : acks) {
                        assertThat(ack.get()).isGreaterThan(previous);
                        previous = ack.txid();
                    }
                }
                try (S3Storage clean = server.storage(bucket).prefix(prefix).open()) {
                    Path restored = Restore.run(clean, dir.resolve(prefix + "-restored.db"), RestoreTarget.latest())
                            .path();
                    assertThat(queryLong(restored, "select count(*) from t")).isEqualTo(150);
                    assertThat(queryLong(restored, "select sum(n) from t")).isEqualTo(150 * 151 / 2);
                }
            }
        }
        assertThat(faults.injected.get()).as("faults injected").isGreaterThan(10);
    }

    @Test
    void logs_duringFailuresTimeoutsAndBadCredentials_neverContainTheSecret() throws Exception {
        PrintStream console = System.err; // slf4j-simple writes to whatever System.err is at the time
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        String bucket = server.createBucket();
        String wrongSecret = "WRONG-" + S3ProxyServer.CREDENTIAL;
        try {
            FaultInjector faults = new FaultInjector(5, 0.5, 0,
                    r -> r.method() == SdkHttpMethod.PUT && r.encodedPath().contains("/log/"));
            try (S3Client client = client(faults, 1);
                 S3Storage s3 = S3Storage.builder(bucket).client(client).open();
                 Primary primary = Primary.open(s3, dir.resolve("logs.db"), fastRetry(Durability.DURABLE))) {
                primary.write(conn -> exec(conn, "create table t(n int)")).get();
                for (int i = 0; i < 10; i++) {
                    primary.write(conn -> exec(conn, "insert into t values (1)")).get();
                }
                assertThat(s3.toString()).doesNotContain(S3ProxyServer.CREDENTIAL);
            }
            assertThatThrownBy(() -> S3Storage.builder(bucket).endpoint(server.endpoint()).region("us-east-1")
                    .pathStyle(true).credentials(StaticCredentialsProvider.create(
                            AwsBasicCredentials.create(S3ProxyServer.IDENTITY, wrongSecret))).open())
                    .isInstanceOf(StorageException.class);
        } finally {
            System.setErr(console);
            console.print(captured.toString(StandardCharsets.UTF_8));
        }
        String logs = captured.toString(StandardCharsets.UTF_8);
        assertThat(logs).as("the capture saw walship's log lines").contains("primary open")
                .contains("storage write failed");
        assertThat(logs).doesNotContain(S3ProxyServer.CREDENTIAL).doesNotContain(wrongSecret);
    }

    @Test
    void open_probePutLandedButAnsweredWithAnError_opens() {
        String bucket = server.createBucket();
        AtomicInteger probePuts = new AtomicInteger();
        FaultInjector firstProbeFails = new FaultInjector(1, 1.0, 0, r -> r.method() == SdkHttpMethod.PUT
                && r.encodedPath().contains(".walship-probe") && probePuts.getAndIncrement() == 0);
        try (S3Client client = client(firstProbeFails, 2);
             S3Storage s3 = S3Storage.builder(bucket).client(client).open()) {
            assertThat(firstProbeFails.injected.get()).as("the first probe PUT landed, then failed").isEqualTo(1);
            assertThat(s3.putIfAbsent("log/0000000000000001", new byte[] {1})).isEqualTo(PutResult.CREATED);
        }
    }

    @Test
    void putIfAbsent_partUploadFails_leavesNoOrphanMultipartUpload() throws Exception {
        String bucket = server.createBucket();
        FaultInjector failParts = new FaultInjector(3, 1.0, 0,
                r -> r.method() == SdkHttpMethod.PUT && r.rawQueryParameters().containsKey("partNumber"));
        Path file = dir.resolve("big.bin");
        byte[] bytes = new byte[11 << 20];
        new Random(4).nextBytes(bytes);
        Files.write(file, bytes);
        try (S3Client client = client(failParts, 1);
             S3Storage s3 = S3Storage.builder(bucket).client(client).partSizeBytes(5 << 20)
                     .multipartThresholdBytes(5 << 20).open()) {
            assertThatThrownBy(() -> s3.putIfAbsent("snapshots/0000000000000007", file))
                    .isInstanceOf(StorageException.class)
                    .satisfies(e -> assertThat(((StorageException) e).isRetryable()).isTrue());
        }
        try (S3Client inspect = server.client()) {
            assertThat(inspect.listMultipartUploads(r -> r.bucket(bucket)).uploads()).as("aborted").isEmpty();
            assertThat(inspect.listObjectsV2(r -> r.bucket(bucket)).contents()).isEmpty();
        }
    }

    @Test
    void get_throttledBeyondMaxAttempts_throwsThrottledOrServerError() {
        String bucket = server.createBucket();
        FaultInjector always = new FaultInjector(5, 1.0, 0, r -> r.method() == SdkHttpMethod.GET);
        try (S3Client client = client(always, 3);
             S3Storage s3 = S3Storage.builder(bucket).client(client).open()) {
            always.requests.set(0);
            assertThatThrownBy(() -> s3.get("log/0000000000000001"))
                    .isInstanceOf(StorageException.class)
                    .satisfies(e -> assertThat(((StorageException) e).kind())
                            .isIn(StorageException.Kind.THROTTLED, StorageException.Kind.SERVER_ERROR));
            assertThat(always.requests.get()).as("bounded retries").isEqualTo(3L);
        }
    }

    @Test
    void putIfAbsent_withoutConditionalWrites_existenceCheckFailsInTheClient_throwsStorageExceptionNotSdkException() {
        String bucket = server.createBucket();
        ExecutionInterceptor headOfObjectFails = new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                SdkHttpRequest request = context.httpRequest();
                if (request.method() == SdkHttpMethod.HEAD && request.encodedPath().startsWith("/" + bucket + "/")) {
                    throw SdkClientException.create("injected: connection reset");
                }
            }
        };
        try (S3Client client = client(headOfObjectFails, 1);
             S3Storage s3 = S3Storage.builder(bucket).client(client).conditionalWrites(false).open()) {
            assertThatThrownBy(() -> s3.putIfAbsent("log/0000000000000001", new byte[] {1}))
                    .isInstanceOf(StorageException.class).hasMessageContaining("connection reset")
                    .satisfies(e -> assertThat(((StorageException) e).kind()).isEqualTo(StorageException.Kind.UNAVAILABLE))
                    .satisfies(e -> assertThat(((StorageException) e).key()).isEqualTo("log/0000000000000001"));
        }
    }

    @Test
    void open_bodyFailsInTheClientWhileRead_readerGetsIOExceptionNamingTheKey() throws Exception {
        String bucket = server.createBucket();
        ExecutionInterceptor bodyFails = new ExecutionInterceptor() {
            @Override
            public Optional<InputStream> modifyHttpResponseContent(Context.ModifyHttpResponse context,
                                                                  ExecutionAttributes attributes) {
                if (context.httpRequest().method() != SdkHttpMethod.GET) {
                    return context.responseBody();
                }
                return Optional.of(new InputStream() {
                    @Override
                    public int read() {
                        throw SdkClientException.create("injected: checksum mismatch");
                    }
                });
            }
        };
        try (S3Client plain = client(new ExecutionInterceptor() { }, 1);
             S3Storage writer = S3Storage.builder(bucket).client(plain).open()) {
            writer.putIfAbsent("log/0000000000000001", new byte[] {1, 2, 3});
        }
        try (S3Client client = client(bodyFails, 1);
             S3Storage s3 = S3Storage.builder(bucket).client(client).open();
             InputStream in = s3.open("log/0000000000000001").orElseThrow()) {
            assertThatThrownBy(in::readAllBytes).isInstanceOf(java.io.IOException.class)
                    .hasMessageContaining("log/0000000000000001").hasMessageContaining("checksum mismatch");
        }
    }
}
