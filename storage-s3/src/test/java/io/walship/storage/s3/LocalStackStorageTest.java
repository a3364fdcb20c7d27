package io.walship.storage.s3;

import io.walship.storage.Storage;
import io.walship.storage.StorageContractTest;
import java.util.UUID;
import org.testcontainers.containers.localstack.LocalStackContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The storage contract against LocalStack's S3 in a container. Runs where a Docker engine
 * exists; skipped (not failed) where none does, as on this project's build machines.
 */
@Testcontainers(disabledWithoutDocker = true)
class LocalStackStorageTest extends StorageContractTest {
    @Container
    static final LocalStackContainer LOCALSTACK =
            new LocalStackContainer(DockerImageName.parse("localstack/localstack:4.4"))
                    .withServices(LocalStackContainer.Service.S3);

    @Override
    protected Storage createStorage() {
        String bucket = "walship-" + UUID.randomUUID();
        StaticCredentialsProvider credentials = StaticCredentialsProvider.create(
                AwsBasicCredentials.create(LOCALSTACK.getAccessKey(), LOCALSTACK.getSecretKey()));
        try (S3Client client = S3Client.builder().endpointOverride(LOCALSTACK.getEndpoint())
                .region(Region.of(LOCALSTACK.getRegion())).credentialsProvider(credentials).forcePathStyle(true)
                .build()) {
            client.createBucket(r -> r.bucket(bucket));
        }
        return S3Storage.builder(bucket).prefix("contract").endpoint(LOCALSTACK.getEndpoint())
                .region(LOCALSTACK.getRegion()).pathStyle(true).credentials(credentials).open();
    }
}
