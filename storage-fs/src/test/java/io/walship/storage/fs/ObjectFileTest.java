package io.walship.storage.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.walship.internal.DirectIo;
import io.walship.testing.BusyLoad;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Objects written around the page cache hold exactly their bytes: the padded last block is cut
 * back, every block boundary and both ways in (bytes, a file) land, and a file system that
 * refuses a direct write gets the object through the cache instead.
 */
class ObjectFileTest {
    private static final int BLOCK = ObjectFile.BLOCK_BYTES;
    private static final int[] LENGTHS = {0, 1, 4095, 4096, 4097, 65535, 65536, 65537, BLOCK - 1, BLOCK, BLOCK + 1,
        3 * BLOCK + 777};

    @TempDir
    Path dir;

    private static byte[] random(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Test
    void putIfAbsent_storesEveryLengthExactly_fromBytesAndFromAFile() throws Exception {
        FileSystemStorage storage = FileSystemStorage.open(dir.resolve("bucket"));
        for (int length : LENGTHS) {
            byte[] content = random(length, length);
            String fromBytes = "log/bytes-" + length;
            String fromFile = "log/file-" + length;
            Path source = Files.write(dir.resolve("source-" + length), content);

            storage.putIfAbsent(fromBytes, content);
            storage.putIfAbsent(fromFile, source);

            assertThat(storage.get(fromBytes)).as("from bytes, %d", length).contains(content);
            assertThat(storage.get(fromFile)).as("from a file, %d", length).contains(content);
            assertThat(Files.size(storage.root().resolve(fromBytes))).isEqualTo(length);
        }
        try (var left = Files.list(dir.resolve("bucket/.tmp"))) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void largeObjects_goAroundThePageCache_smallOnesThroughIt() throws Exception {
        try (FileChannel probe = DirectIo.open(dir.resolve("probe"), BLOCK, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            assumeTrue(probe != null, "this file system takes no direct writes");
        }
        try (ObjectFile large = ObjectFile.create(dir.resolve("large"), ObjectFile.DIRECT_MIN_BYTES);
             ObjectFile small = ObjectFile.create(dir.resolve("small"), ObjectFile.DIRECT_MIN_BYTES - 1)) {
            assertThat(large.direct()).isTrue();
            assertThat(small.direct()).isFalse();
            byte[] content = random(BLOCK + 5000, 3);
            large.write(content, 0, content.length);
            large.finish();
            assertThat(large.direct()).as("no write was refused").isTrue();
            assertThat(Files.readAllBytes(dir.resolve("large"))).isEqualTo(content);
        }
    }

    @Test
    void aRefusedDirectWrite_isWrittenThroughTheCache_withEverythingAfterIt() throws Exception {
        for (int length : new int[] {100, BLOCK, BLOCK + 100, 2 * BLOCK + 100}) {
            byte[] content = random(length, 11);
            Path target = dir.resolve("refused-" + length);
            // a "direct" channel whose every write fails, as a file system refusing O_DIRECT would
            try (ObjectFile file = new ObjectFile(target, FileChannel.open(Path.of("/dev/full"),
                    StandardOpenOption.WRITE))) {
                file.write(content, 0, 7);
                file.write(content, 7, length - 7);
                file.finish();
                assertThat(file.direct()).isFalse();
            }
            assertThat(Files.readAllBytes(target)).as("%d", length).isEqualTo(content);

            Path source = Files.write(dir.resolve("source-" + length), content);
            Path copied = dir.resolve("refused-copy-" + length);
            try (ObjectFile file = new ObjectFile(copied, FileChannel.open(Path.of("/dev/full"),
                    StandardOpenOption.WRITE))) {
                file.copyFrom(source);
                file.finish();
            }
            assertThat(Files.readAllBytes(copied)).as("copied, %d", length).isEqualTo(content);
        }
    }

    /**
     * Concurrent puts each take a block of their own from the pool, with two busy threads beside
     * them: more puts at once than blocks are pooled, every object stored exactly.
     */
    @Test
    void concurrentPuts_eachWriteTheirOwnBytes_underLoad() throws Exception {
        FileSystemStorage storage = FileSystemStorage.open(dir.resolve("bucket"));
        int threads = 6;
        int perThread = 12;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (BusyLoad load = BusyLoad.start(2)) {
            List<Future<?>> puts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                puts.add(pool.submit(() -> {
                    Random sizes = new Random(thread);
                    for (int i = 0; i < perThread; i++) {
                        int length = (int) ObjectFile.DIRECT_MIN_BYTES + sizes.nextInt(3 * BLOCK);
                        storage.putIfAbsent("log/" + thread + "-" + i, random(length, thread * 1000L + i));
                    }
                    return null;
                }));
            }
            for (Future<?> put : puts) {
                put.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        for (int t = 0; t < threads; t++) {
            Random sizes = new Random(t);
            for (int i = 0; i < perThread; i++) {
                int length = (int) ObjectFile.DIRECT_MIN_BYTES + sizes.nextInt(3 * BLOCK);
                assertThat(storage.get("log/" + t + "-" + i)).as("thread %d, put %d", t, i)
                        .contains(random(length, t * 1000L + i));
            }
        }
    }
}
