package io.walship.storage.s3;

import java.io.IOException;
import java.net.URI;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.UUID;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3-compatible server (s3proxy, in memory) on a free loopback port, with signature
 * checking on, for tests. One per test class, started and stopped around it:
 * {@code @RegisterExtension static final S3ProxyServer server = new S3ProxyServer();}
 * {@link #onDisk()} keeps objects in a temporary directory instead, for objects of gigabytes.
 */
public final class S3ProxyServer implements BeforeAllCallback, AfterAllCallback {
    public static final String IDENTITY = "walship-test-access";
    /** A planted secret: tests assert it never reaches a log line or a message. */
    public static final String CREDENTIAL = "walship-PLANTED-SECRET-" + UUID.randomUUID();

    private final boolean onDisk;
    private Path directory;
    private S3Proxy proxy;
    private URI endpoint;

    public S3ProxyServer() {
        this(false);
    }

    private S3ProxyServer(boolean onDisk) {
        this.onDisk = onDisk;
    }

    /** A server whose objects live in a temporary directory, removed when it stops. */
    public static S3ProxyServer onDisk() {
        return new S3ProxyServer(true);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (onDisk) {
            directory = Files.createTempDirectory("walship-s3proxy");
        }
        proxy = S3Proxy.builder()
                .blobStore(onDisk ? new FilesystemNio2BlobStore(directory.toString()) : new TransientNio2BlobStore())
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, IDENTITY, CREDENTIAL)
                .build();
        proxy.start();
        io.walship.testing.Await.until("s3proxy started", java.time.Duration.ofSeconds(30),
                () -> proxy.getState().equals("STARTED"));
        endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    public URI endpoint() {
        return endpoint;
    }

    public StaticCredentialsProvider credentials() {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(IDENTITY, CREDENTIAL));
    }

    /** A client of our own, for test set-up and inspection. */
    public S3Client client() {
        return S3Client.builder().endpointOverride(endpoint).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(credentials()).httpClientBuilder(ApacheHttpClient.builder()).build();
    }

    public String createBucket() {
        String bucket = "b" + UUID.randomUUID().toString().replace("-", "").substring(0, 20);
        try (S3Client client = client()) {
            client.createBucket(r -> r.bucket(bucket));
        }
        return bucket;
    }

    public S3Storage.Builder storage(String bucket) {
        return S3Storage.builder(bucket).endpoint(endpoint).region("us-east-1").pathStyle(true)
                .credentials(credentials());
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        proxy.stop();
        if (directory != null) {
            Files.walkFileTree(directory, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        }
    }
}
