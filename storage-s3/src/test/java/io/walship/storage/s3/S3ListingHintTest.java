package io.walship.storage.s3;

import io.walship.storage.ListingHintContractTest;
import io.walship.storage.Storage;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The listing-hint contract against a real S3-compatible server. */
class S3ListingHintTest extends ListingHintContractTest {
    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    @Override
    protected Storage createStorage() {
        return server.storage(server.createBucket()).prefix("apps/orders").open();
    }
}
