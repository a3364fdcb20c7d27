package io.walship.storage;

import io.walship.testing.MemoryStorage;

/** The listing-hint contract on the in-memory storage the other tests use. */
class MemoryListingHintTest extends ListingHintContractTest {
    @Override
    protected Storage createStorage() {
        return new MemoryStorage();
    }
}
