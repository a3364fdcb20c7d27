package io.walship.internal.encryption;

import io.walship.encryption.Encryption;
import io.walship.encryption.KeyProvider;
import io.walship.storage.Storage;
import io.walship.storage.StorageContractTest;
import io.walship.testing.MemoryStorage;
import java.util.Map;

/** An encrypting storage keeps the whole storage contract: what walship's code expects of any storage. */
class EncryptingStorageContractTest extends StorageContractTest {
    @Override
    protected Storage createStorage() {
        return Encryption.with(KeyProvider.of(Map.of("contract", EnvelopeTest.key(4)))).wrap(new MemoryStorage());
    }
}
