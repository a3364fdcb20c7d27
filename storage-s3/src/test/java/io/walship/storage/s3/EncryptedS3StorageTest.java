package io.walship.storage.s3;

import io.walship.encryption.Encryption;
import io.walship.encryption.KeyProvider;
import io.walship.storage.Storage;
import io.walship.storage.StorageContractTest;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The storage contract through encryption, against a real S3-compatible server (multipart, ranged reads). */
class EncryptedS3StorageTest extends StorageContractTest {
    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    @Override
    protected Storage createStorage() {
        byte[] key = new byte[32];
        new Random(8).nextBytes(key);
        return Encryption.with(KeyProvider.of(Map.of("s3", key)))
                .wrap(server.storage(server.createBucket()).prefix("apps/secret").open());
    }
}
