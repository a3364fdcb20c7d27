package io.walship.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.StorageContractTest;
import io.walship.storage.StorageException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.s3.S3Client;

/** The storage contract and S3-specific behaviour against a real S3-compatible server. */
class S3StorageTest extends StorageContractTest {
    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    @Override
    protected Storage createStorage() {
        return server.storage(server.createBucket()).prefix("apps/orders").open();
    }

    @Test
    void putIfAbsent_fileAbovePartSize_usesMultipartAndRoundTrips() throws Exception {
        String bucket = server.createBucket();
        byte[] bytes = new byte[21 << 20]; // three read ranges, five parts
        new Random(3).nextBytes(bytes);
        Path file = temp.resolve("snapshot.bin");
        Files.write(file, bytes);
        try (S3Storage s3 = server.storage(bucket).partSizeBytes(5 << 20).multipartThresholdBytes(5 << 20).open()) {
            assertThat(s3.putIfAbsent("snapshots/0000000000000001", file)).isEqualTo(PutResult.CREATED);
            assertThat(s3.putIfAbsent("snapshots/0000000000000001", file)).isEqualTo(PutResult.ALREADY_EXISTS);
            assertThat(s3.get("snapshots/0000000000000001").orElseThrow()).as("multipart assembled").isEqualTo(bytes);
            try (InputStream in = s3.open("snapshots/0000000000000001").orElseThrow()) {
                byte[] read = in.readAllBytes();
                int mismatch = java.util.Arrays.mismatch(read, bytes);
                assertThat(mismatch).as("read back with parallel ranged GETs: %d of %d bytes", read.length,
                        bytes.length).isEqualTo(-1);
            }
        }
        try (S3Client client = server.client()) {
            assertThat(client.listMultipartUploads(r -> r.bucket(bucket)).uploads()).isEmpty();
        }
    }

    @Test
    void open_missingBucket_throwsBucketMissing() {
        assertThatThrownBy(() -> server.storage("no-such-bucket-here").open())
                .isInstanceOf(StorageException.class)
                .satisfies(e -> assertThat(((StorageException) e).kind()).isEqualTo(StorageException.Kind.BUCKET_MISSING))
                .hasMessageContaining("bucket does not exist");
    }

    @Test
    void open_wrongSecret_throwsBadCredentialsWithoutTheSecret() {
        String bucket = server.createBucket();
        String wrong = "WRONG-" + S3ProxyServer.CREDENTIAL;
        assertThatThrownBy(() -> S3Storage.builder(bucket).endpoint(server.endpoint()).region("us-east-1")
                .pathStyle(true).credentials(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(S3ProxyServer.IDENTITY, wrong))).open())
                .isInstanceOf(StorageException.class)
                .satisfies(e -> {
                    StorageException s = (StorageException) e;
                    assertThat(s.kind()).isIn(StorageException.Kind.BAD_CREDENTIALS, StorageException.Kind.ACCESS_DENIED);
                    assertThat(s.isRetryable()).isFalse();
                })
                .message().doesNotContain(S3ProxyServer.CREDENTIAL);
    }

    @Test
    void open_nothingListening_throwsUnavailableAfterBoundedRetries() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        assertThatThrownBy(() -> S3Storage.builder("bucket").endpoint(URI.create("http://127.0.0.1:" + port))
                .region("us-east-1").pathStyle(true).credentials(server.credentials()).maxAttempts(2).open())
                .isInstanceOf(StorageException.class)
                .satisfies(e -> {
                    assertThat(((StorageException) e).kind()).isEqualTo(StorageException.Kind.UNAVAILABLE);
                    assertThat(((StorageException) e).isRetryable()).isTrue();
                });
    }

    @Test
    void builder_clientTogetherWithEndpoint_isRejectedNamingBoth() {
        try (S3Client client = server.client()) {
            assertThatThrownBy(() -> S3Storage.builder("b").client(client).endpoint(server.endpoint()).open())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("endpoint()");
        }
    }

    @Test
    void list_hidesOtherPrefixesAndProbeObjects() {
        String bucket = server.createBucket();
        try (S3Storage a = server.storage(bucket).prefix("a").open();
             S3Storage b = server.storage(bucket).prefix("b/").open()) {
            a.putIfAbsent("log/0000000000000001", new byte[] {1});
            b.putIfAbsent("log/0000000000000002", new byte[] {2});
            assertThat(a.list("")).extracting(io.walship.storage.ObjectInfo::key).containsExactly("log/0000000000000001");
            assertThat(b.list("log/")).extracting(io.walship.storage.ObjectInfo::key)
                    .containsExactly("log/0000000000000002");
            assertThat(a.toString()).isEqualTo("s3://" + bucket + "/a/");
        }
    }
}
