package io.walship.internal.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.nio.file.ExtendedOpenOption;
import io.walship.testing.BusyLoad;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restored file's snapshot pages go to the disk with direct writes where the file system takes
 * them and the page size is a multiple of its block size, and through the page cache otherwise;
 * either way the file holds exactly the snapshot's pages (restores with a log after the snapshot:
 * RestoreTest and the integration suite, on the same code).
 */
class DirectWritesTest {
    @TempDir
    Path dir;

    /** {@code count} pages of {@code pageSize}, half compressible, each different. */
    private static byte[] pages(int pageSize, int count, long seed) {
        byte[] pages = new byte[pageSize * count];
        Random random = new Random(seed);
        for (int i = 0; i < pages.length; i += 2) {
            pages[i] = (byte) random.nextInt(256);
        }
        return pages;
    }

    private static byte[] snapshot(byte[] pages, int pageSize) throws IOException {
        int count = pages.length / pageSize;
        DatabaseChecksum checksum = new DatabaseChecksum(pageSize);
        for (int i = 0; i < count; i++) {
            checksum.setPage(i + 1, pages, i * pageSize);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotWriter writer = new SnapshotWriter(out, pageSize, count, 9, checksum.value(), 1234);
        for (int i = 0; i < count; i++) {
            writer.writePage(ByteBuffer.wrap(pages), i * pageSize);
        }
        writer.finish();
        return out.toByteArray();
    }

    /** Writes {@code snapshot} into a new image at {@code file} as a restore does; returns its direct bytes. */
    private static long restore(Path file, byte[] snapshot) throws IOException {
        SnapshotReader reader = SnapshotReader.open("snapshots/9", new ByteArrayInputStream(snapshot));
        try (DatabaseImage image = DatabaseImage.create(file, reader.pageSize(), reader.txid());
             SnapshotPages pages = new SnapshotPages(reader, "test")) {
            for (SnapshotPages.Batch batch = pages.next(); batch != null; batch = pages.next()) {
                image.writePages(batch);
            }
            assertThat(image.checksum()).isEqualTo(reader.databaseChecksum());
            image.finish();
            return image.directBytes();
        }
    }

    private boolean fileSystemTakesDirectWrites() {
        try (FileChannel probe = FileChannel.open(dir.resolve("probe"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT)) {
            return Files.getFileStore(dir).getBlockSize() <= DatabaseImage.DIRECT_ALIGNMENT;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    @Test
    void snapshotPages_goStraightToTheDisk_andTheFileHoldsExactlyThem_underLoad() throws Exception {
        assumeTrue(fileSystemTakesDirectWrites(), "the temporary directory's file system refuses O_DIRECT");
        int pageSize = 4096;
        byte[] pages = pages(pageSize, 3_000, 1); // ~12 MiB: several batches, the last one short
        Path file = dir.resolve("restored.db");
        long direct;
        try (BusyLoad load = BusyLoad.start(2)) {
            direct = restore(file, snapshot(pages, pageSize));
        }
        assertThat(direct).as("bytes written directly").isEqualTo(pages.length);
        assertThat(Files.readAllBytes(file)).isEqualTo(pages);
    }

    @Test
    void pagesSmallerThanTheDisksBlock_goThroughThePageCache_andTheFileHoldsExactlyThem() throws Exception {
        long block = Files.getFileStore(dir).getBlockSize();
        assumeTrue(block > 512, "a block of " + block + " bytes: 512-byte pages are direct-aligned here");
        byte[] pages = pages(512, 5_000, 2);
        Path file = dir.resolve("small-pages.db");
        assertThat(restore(file, snapshot(pages, 512))).as("bytes written directly").isZero();
        assertThat(Files.readAllBytes(file)).isEqualTo(pages);
    }
}
