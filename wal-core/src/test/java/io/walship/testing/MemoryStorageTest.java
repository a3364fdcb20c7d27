package io.walship.testing;

import io.walship.storage.Storage;
import io.walship.storage.StorageContractTest;

/** The test fixture keeps the same contract as the real backends. */
class MemoryStorageTest extends StorageContractTest {
    @Override
    protected Storage createStorage() {
        return new MemoryStorage();
    }
}
