package io.walship.storage.fs;

import io.walship.storage.ListingHintContractTest;
import io.walship.storage.Storage;

/** The listing-hint contract on a real directory. */
class FileSystemListingHintTest extends ListingHintContractTest {
    @Override
    protected Storage createStorage() {
        return FileSystemStorage.open(temp.resolve("bucket"));
    }
}
