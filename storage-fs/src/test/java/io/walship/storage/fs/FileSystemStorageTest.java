package io.walship.storage.fs;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.StorageContractTest;
import io.walship.testing.BusyLoad;
import io.walship.testing.Worker;
import java.io.Closeable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class FileSystemStorageTest extends StorageContractTest {
    @Override
    protected Storage createStorage() {
        return FileSystemStorage.open(temp.resolve("bucket"));
    }

    @Test
    void putIfAbsent_leavesNoTemporaryFiles() throws Exception {
        storage.putIfAbsent("log/0000000000000001", new byte[] {1});
        storage.putIfAbsent("log/0000000000000001", new byte[] {2});
        try (Stream<Path> files = Files.list(temp.resolve("bucket/.tmp"))) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void list_ignoresTemporaryFiles() throws Exception {
        Files.write(temp.resolve("bucket/.tmp/abandoned.tmp"), new byte[] {1});
        assertThat(storage.list("")).isEmpty();
    }

    @Test
    void open_removesTempFilesACrashedWriterLeftButNotYoungOnes() throws Exception {
        Path stale = temp.resolve("bucket/.tmp/crashed-writer.tmp");
        Path young = temp.resolve("bucket/.tmp/live-writer.tmp");
        Files.write(stale, new byte[4096]);
        Files.write(young, new byte[4096]);
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofHours(2))));

        FileSystemStorage.open(temp.resolve("bucket"));

        assertThat(stale).doesNotExist();
        assertThat(young).exists();
    }

    @Test
    void open_reopensExistingDirectoryWithItsObjects() {
        storage.putIfAbsent("snapshots/0000000000000000", new byte[] {9});
        FileSystemStorage again = FileSystemStorage.open(temp.resolve("bucket"));
        assertThat(again.putIfAbsent("snapshots/0000000000000000", new byte[] {1}))
                .isEqualTo(PutResult.ALREADY_EXISTS);
        assertThat(again.toString()).startsWith("file://");
    }

    @Test
    void watch_wakesOnEveryNewObjectUnderThePrefix_alsoInDirectoriesCreatedLater() throws Exception {
        Semaphore changes = new Semaphore(0);
        try (Closeable watch = storage.watch("log/", changes::release).orElseThrow()) {
            storage.putIfAbsent("log/0000000000000001", new byte[] {1});
            assertThat(changes.tryAcquire(5, TimeUnit.SECONDS)).as("segment").isTrue();
            storage.putIfAbsent("log/2/0000000000000100", new byte[] {2}); // a level directory, new
            assertThat(changes.tryAcquire(5, TimeUnit.SECONDS)).as("level directory").isTrue();
            changes.drainPermits();
            storage.putIfAbsent("log/2/0000000000000200", new byte[] {3}); // inside the new directory
            assertThat(changes.tryAcquire(5, TimeUnit.SECONDS)).as("object in it").isTrue();
            changes.drainPermits();
            storage.putIfAbsent("snapshots/0000000000000001", new byte[] {4}); // another prefix
            assertThat(changes.tryAcquire(300, TimeUnit.MILLISECONDS)).as("outside").isFalse();
        }
        storage.putIfAbsent("log/0000000000000002", new byte[] {5});
        assertThat(changes.tryAcquire(300, TimeUnit.MILLISECONDS)).as("after close").isFalse();
    }

    @Test
    void watch_startingWhileCompactionDeletesDirectoriesBelow_watchesAndNeverFails() throws Exception {
        // regression: a follower starting while compaction deleted a directory under log/ failed in
        // follow() with an UncheckedIOException (NoSuchFileException) from the tree walk
        Path log = temp.resolve("bucket").resolve("log");
        // the load of a busy machine: the walk and the deletes interleave more
        try (BusyLoad load = BusyLoad.start(2)) {
            for (int round = 0; round < 20; round++) {
                for (int d = 0; d < 40; d++) {
                    Files.createDirectories(log.resolve(round + "-" + d).resolve("parts"));
                    Files.write(log.resolve(round + "-" + d).resolve("parts").resolve("0"), new byte[] {1});
                }
                int r = round;
                Worker deleter = Worker.start("compactor", () -> {
                    for (int d = 39; d >= 0; d--) {
                        Path dir = log.resolve(r + "-" + d);
                        Files.delete(dir.resolve("parts").resolve("0"));
                        Files.delete(dir.resolve("parts"));
                        Files.delete(dir);
                    }
                });
                Semaphore changes = new Semaphore(0);
                try (Closeable watch = storage.watch("log/", changes::release).orElseThrow()) {
                    deleter.join(Duration.ofSeconds(30));
                    storage.putIfAbsent("log/" + String.format("%016x", round + 1), new byte[] {1});
                    assertThat(changes.tryAcquire(5, TimeUnit.SECONDS)).as("round %d: still watching", round)
                            .isTrue();
                }
            }
        }
    }
}
