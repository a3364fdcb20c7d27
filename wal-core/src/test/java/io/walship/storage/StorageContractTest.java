package io.walship.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link Storage} must do. Each backend's test extends this class unchanged and
 * supplies a fresh, empty storage.
 */
public abstract class StorageContractTest {
    @TempDir
    protected Path temp;

    protected Storage storage;

    /** A new, empty storage. */
    protected abstract Storage createStorage() throws Exception;

    @BeforeEach
    void setUpStorage() throws Exception {
        storage = createStorage();
    }

    @AfterEach
    void closeStorage() {
        storage.close();
    }

    @Test
    void putIfAbsent_newKey_returnsCreatedAndGetReturnsBytes() {
        byte[] bytes = {1, 2, 3};
        assertThat(storage.putIfAbsent("log/0000000000000001", bytes)).isEqualTo(PutResult.CREATED);
        assertThat(storage.get("log/0000000000000001")).hasValueSatisfying(b -> assertThat(b).isEqualTo(bytes));
    }

    @Test
    void putIfAbsent_existingKey_returnsAlreadyExistsAndKeepsFirstBytes() {
        storage.putIfAbsent("log/0000000000000001", new byte[] {1});
        assertThat(storage.putIfAbsent("log/0000000000000001", new byte[] {2})).isEqualTo(PutResult.ALREADY_EXISTS);
        assertThat(storage.get("log/0000000000000001")).hasValueSatisfying(b -> assertThat(b).containsExactly(1));
    }

    @Test
    void putIfAbsent_emptyObject_roundTrips() {
        assertThat(storage.putIfAbsent("snapshots/0000000000000000", new byte[0])).isEqualTo(PutResult.CREATED);
        assertThat(storage.get("snapshots/0000000000000000")).hasValueSatisfying(b -> assertThat(b).isEmpty());
    }

    @Test
    void putIfAbsent_file_streamsLargeObject() throws IOException {
        byte[] bytes = new byte[12 << 20];
        new Random(5).nextBytes(bytes);
        Path file = temp.resolve("big");
        Files.write(file, bytes);

        assertThat(storage.putIfAbsent("snapshots/00000000000000aa", file)).isEqualTo(PutResult.CREATED);
        assertThat(storage.putIfAbsent("snapshots/00000000000000aa", file)).isEqualTo(PutResult.ALREADY_EXISTS);
        try (InputStream in = storage.open("snapshots/00000000000000aa").orElseThrow()) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
    }

    @Test
    void get_missingKey_isEmpty() {
        assertThat(storage.get("log/0000000000000009")).isEmpty();
        assertThat(storage.open("log/0000000000000009")).isEmpty();
    }

    @Test
    void getRange_readsThePartAskedFor_shorterAtTheEnd_emptyWhenMissing() {
        byte[] bytes = new byte[5000];
        new Random(3).nextBytes(bytes);
        storage.putIfAbsent("log/0000000000000007", bytes);

        assertThat(storage.getRange("log/0000000000000007", 0, 48)).hasValueSatisfying(b ->
                assertThat(b).isEqualTo(java.util.Arrays.copyOf(bytes, 48)));
        assertThat(storage.getRange("log/0000000000000007", 4990, 48)).hasValueSatisfying(b ->
                assertThat(b).isEqualTo(java.util.Arrays.copyOfRange(bytes, 4990, 5000)));
        assertThat(storage.getRange("log/0000000000000007", 5000, 48)).hasValueSatisfying(b -> assertThat(b).isEmpty());
        assertThat(storage.getRange("log/0000000000000008", 0, 48)).isEmpty();
        storage.putIfAbsent("log/0000000000000009", new byte[0]);
        assertThat(storage.getRange("log/0000000000000009", 0, 48)).hasValueSatisfying(b -> assertThat(b).isEmpty());
    }

    @Test
    void list_returnsKeysUnderPrefixInOrderWithSizes() {
        storage.putIfAbsent("log/0000000000000010", new byte[10]);
        storage.putIfAbsent("log/0000000000000002", new byte[2]);
        storage.putIfAbsent("snapshots/0000000000000000", new byte[1]);

        List<ObjectInfo> log = storage.list("log/");
        assertThat(log).extracting(ObjectInfo::key).containsExactly("log/0000000000000002", "log/0000000000000010");
        assertThat(log).extracting(ObjectInfo::size).containsExactly(2L, 10L);
        assertThat(storage.list("snapshots/")).hasSize(1);
        assertThat(storage.list("nothing/")).isEmpty();
    }

    @Test
    void list_manyKeys_returnsAllPages() {
        for (int i = 0; i < 1100; i++) {
            storage.putIfAbsent(String.format("log/%016x", i), new byte[] {(byte) i});
        }
        List<ObjectInfo> all = storage.list("log/");
        assertThat(all).hasSize(1100);
        assertThat(all.get(1099).key()).isEqualTo("log/000000000000044b");
    }

    @Test
    void delete_removesKeyAndMissingKeyIsNoError() {
        storage.putIfAbsent("log/0000000000000001", new byte[] {1});
        storage.delete("log/0000000000000001");
        storage.delete("log/0000000000000001");
        assertThat(storage.get("log/0000000000000001")).isEmpty();
        assertThat(storage.putIfAbsent("log/0000000000000001", new byte[] {2})).isEqualTo(PutResult.CREATED);
    }

    @Test
    void deleteAll_manyKeysAcrossLevelsAndMissingOnes_deletesExactlyThose() {
        java.util.List<String> doomed = new java.util.ArrayList<>();
        for (int i = 0; i < 1203; i++) { // more than one S3 DeleteObjects batch
            String key = String.format("log/%016x", i + 1);
            storage.putIfAbsent(key, new byte[] {(byte) i});
            doomed.add(key);
        }
        storage.putIfAbsent("log/1/0000000000000010", new byte[] {1});
        storage.putIfAbsent("log/2/0000000000000100", new byte[] {2});
        doomed.add("log/1/0000000000000010");
        doomed.add("log/0000000000ffffff"); // missing: not an error

        storage.deleteAll(doomed);

        assertThat(storage.list("log/")).extracting(ObjectInfo::key).containsExactly("log/2/0000000000000100");
    }

    /** Regression: a directory walk failed on a file a compactor deleted between reading the directory and the file. */
    @Test
    void list_whileAnotherThreadDeletes_neverFails() throws Exception {
        for (int i = 0; i < 300; i++) {
            storage.putIfAbsent(String.format("log/%016x", i + 1), new byte[] {1});
        }
        Thread deleter = new Thread(() -> {
            for (int i = 0; i < 300; i++) {
                storage.delete(String.format("log/%016x", i + 1));
            }
        });
        deleter.start();
        while (deleter.isAlive()) {
            storage.list("log/");
        }
        deleter.join();
        assertThat(storage.list("log/")).isEmpty();
    }

    @Test
    void putIfAbsent_concurrentCreatorsOfOneKey_exactlyOneWins() throws Exception {
        int threads = 16;
        for (int round = 0; round < 20; round++) {
            String key = String.format("log/%016x", round);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<PutResult>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                byte[] content = new byte[1000 + t];
                content[0] = (byte) t;
                results.add(pool.submit(() -> {
                    start.await();
                    return storage.putIfAbsent(key, content);
                }));
            }
            start.countDown();
            int created = 0;
            int winner = -1;
            for (int t = 0; t < threads; t++) {
                if (results.get(t).get() == PutResult.CREATED) {
                    created++;
                    winner = t;
                }
            }
            pool.shutdown();
            assertThat(created).as("round %d", round).isEqualTo(1);
            byte[] stored = storage.get(key).orElseThrow();
            assertThat(stored).hasSize(1000 + winner);
            assertThat(stored[0]).isEqualTo((byte) winner);
        }
    }

    @Test
    void putIfAbsent_invalidKey_isRejected() {
        assertThatThrownBy(() -> storage.putIfAbsent("../escape", new byte[1]))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
