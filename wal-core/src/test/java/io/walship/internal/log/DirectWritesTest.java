package io.walship.internal.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.nio.file.ExtendedOpenOption;
import io.walship.internal.DirectIo;
import io.walship.testing.BusyLoad;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
            return Files.getFileStore(dir).getBlockSize() <= DirectIo.ALIGNMENT;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    @Test
    void snapshotPages_goStraightToTheDisk_andTheFileHoldsExactlyThem_underLoad() throws Exception {
        assumeTrue(fileSystemTakesDirectWrites(), "the temporary directory's file system refuses O_DIRECT");
        int pageSize = 4096;
        byte[] pages = SnapshotCodecTest.pages(pageSize, 3_000); // ~12 MiB: several batches, the last one short
        Path file = dir.resolve("restored.db");
        long direct;
        try (BusyLoad load = BusyLoad.start(2)) {
            direct = restore(file, SnapshotCodecTest.snapshot(pages, pageSize, 3_000));
        }
        assertThat(direct).as("bytes written directly").isEqualTo(pages.length);
        assertThat(Files.readAllBytes(file)).isEqualTo(pages);
    }

    @Test
    void pagesSmallerThanTheDisksBlock_goThroughThePageCache_andTheFileHoldsExactlyThem() throws Exception {
        long block = Files.getFileStore(dir).getBlockSize();
        assumeTrue(block > 512, "a block of " + block + " bytes: 512-byte pages are direct-aligned here");
        byte[] pages = SnapshotCodecTest.pages(512, 5_000);
        Path file = dir.resolve("small-pages.db");
        assertThat(restore(file, SnapshotCodecTest.snapshot(pages, 512, 5_000))).as("bytes written directly").isZero();
        assertThat(Files.readAllBytes(file)).isEqualTo(pages);
    }
}
