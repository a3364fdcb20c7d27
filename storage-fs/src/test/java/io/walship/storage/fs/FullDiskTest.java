package io.walship.storage.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.walship.storage.PutResult;
import io.walship.storage.StorageException;
import io.walship.testing.SmallDisk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real full file system (a 1 MiB tmpfs) under the storage directory. */
class FullDiskTest {
    @TempDir
    Path dir;

    @Test
    void putIfAbsent_diskFull_failsWithNoSpaceLeavesNothingBehindAndWorksOnceGrown() throws Exception {
        try (SmallDisk disk = SmallDisk.mount(dir.resolve("disk"), 1 << 20)) {
            FileSystemStorage storage = FileSystemStorage.open(disk.dir());
            byte[] object = new byte[300 << 10];
            assertThat(storage.putIfAbsent("log/0000000000000001", object)).isEqualTo(PutResult.CREATED);
            assertThat(storage.putIfAbsent("log/0000000000000002", object)).isEqualTo(PutResult.CREATED);

            StorageException full = catchThrowableOfType(
                    () -> storage.putIfAbsent("log/0000000000000003", new byte[600 << 10]), StorageException.class);

            assertThat(full.kind()).isEqualTo(StorageException.Kind.NO_SPACE);
            assertThat(full.isRetryable()).isTrue();
            assertThat(full.key()).isEqualTo("log/0000000000000003");
            assertThat(full.getMessage()).contains("is full").contains("free space");
            assertThat(storage.get("log/0000000000000003")).isEmpty();
            try (Stream<Path> temps = Files.list(disk.dir().resolve(".tmp"))) {
                assertThat(temps).as("partial temp file removed").isEmpty();
            }

            disk.resize(4 << 20);
            assertThat(storage.putIfAbsent("log/0000000000000003", new byte[600 << 10])).isEqualTo(PutResult.CREATED);
            assertThat(storage.get("log/0000000000000001")).get().isEqualTo(object);
        }
    }
}
