package io.walship.restore;

import static io.walship.BadObjectException.Kind.CORRUPT;
import static io.walship.BadObjectException.Kind.PAGE_SIZE_MISMATCH;
import static io.walship.BadObjectException.Kind.TXID_GAP;
import static io.walship.BadObjectException.Kind.UNSUPPORTED_FORMAT;
import static io.walship.testing.BadObjects.badObject;
import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.TxidNotAvailableException;
import io.walship.internal.log.FormatLayout;
import io.walship.internal.log.ObjectKey;
import io.walship.storage.ObjectInfo;
import io.walship.testing.MemoryStorage;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad stored objects end a restore with a typed error and leave no file behind. */
class RestoreTest {
    @TempDir
    Path dir;

    private final MemoryStorage storage = new MemoryStorage();

    @BeforeEach
    void fill() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("p.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            for (int i = 1; i <= 5; i++) {
                int v = i;
                primary.write(conn -> exec(conn, "insert into t values (" + v + ")")).get();
            }
        }
    }

    private List<String> segmentKeys() {
        return storage.list(ObjectKey.LOG_PREFIX).stream().map(ObjectInfo::key).toList();
    }

    private void assertNoFilesLeft() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).allMatch(n -> n.startsWith("p.db"));
        }
    }

    @Test
    void run_latest_restoresEverything() throws Exception {
        RestoreResult result = Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest());
        assertThat(result.txid()).isEqualTo(6);
        assertThat(queryLong(result.path(), "select sum(x) from t")).isEqualTo(15);
    }

    @Test
    void run_truncatedSegment_throwsCorruptObjectNamingKey() throws Exception {
        String key = segmentKeys().get(2);
        byte[] bytes = storage.get(key).orElseThrow();
        storage.overwrite(key, Arrays.copyOf(bytes, bytes.length - 3));

        assertThatThrownBy(() -> Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()))
                .is(badObject(CORRUPT)).hasMessageContaining("key=" + key);
        assertNoFilesLeft();
    }

    @Test
    void run_flippedBitInSegment_throwsCorruptObject() throws Exception {
        String key = segmentKeys().get(1);
        byte[] bytes = storage.get(key).orElseThrow();
        bytes[bytes.length / 2] ^= 0x10;
        storage.overwrite(key, bytes);

        assertThatThrownBy(() -> Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()))
                .is(badObject(CORRUPT)).hasMessageContaining("checksum mismatch");
        assertNoFilesLeft();
    }

    @Test
    void run_flippedBitInSnapshot_throwsCorruptObjectAndStopsItsDecoder() throws Exception {
        String key = storage.list(ObjectKey.SNAPSHOT_PREFIX).get(0).key();
        byte[] bytes = storage.get(key).orElseThrow();
        bytes[bytes.length - 20] ^= 0x04; // in the last block: found only after the pages before it were written
        storage.overwrite(key, bytes);

        assertThatThrownBy(() -> Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()))
                .is(badObject(CORRUPT)).hasMessageContaining("key=" + key);
        assertNoFilesLeft();
        assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(t -> t.getName().startsWith("walship-snapshot-decoder"));
    }

    /** Regression: one damaged snapshot blocked every restore at or after its txid, though the older one and the log cover them. */
    @Test
    void run_damagedNewestSnapshot_restoresFromAnOlderOneAndTheLog_andSaysSo() throws Exception {
        long newest;
        try (Primary primary = Primary.open(storage, dir.resolve("p.db"), PrimaryOptions.durable())) {
            newest = primary.snapshot();
            primary.write(conn -> exec(conn, "insert into t values (100)")).get();
        }
        String key = ObjectKey.snapshot(newest);
        byte[] bytes = storage.get(key).orElseThrow();
        bytes[bytes.length - 20] ^= 0x04;
        storage.overwrite(key, bytes);

        for (RestoreTarget target : List.of(RestoreTarget.latest(), RestoreTarget.txid(newest))) {
            Path file = dir.resolve("p.db-" + target.txid());
            RestoreResult result = Restore.run(storage, file, target);
            assertThat(result.snapshotTxid()).as("the older snapshot").isZero();
            assertThat(result.damagedSnapshots()).singleElement().satisfies(e -> assertThat(e.getMessage())
                    .contains(key));
            assertThat(queryLong(file, "select sum(x) from t")).isEqualTo(target.isLatest() ? 115 : 15);
        }
    }

    @Test
    void run_truncatedSnapshot_throwsCorruptObject() throws Exception {
        String key = storage.list(ObjectKey.SNAPSHOT_PREFIX).get(0).key();
        byte[] bytes = storage.get(key).orElseThrow();
        storage.overwrite(key, Arrays.copyOf(bytes, bytes.length / 2));

        assertThatThrownBy(() -> Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()))
                .is(badObject(CORRUPT)).hasMessageContaining("key=" + key);
        assertNoFilesLeft();
    }

    @Test
    void run_unknownFormatVersion_throwsUnsupportedFormat() {
        String key = segmentKeys().get(0);
        byte[] bytes = storage.get(key).orElseThrow();
        ByteBuffer.wrap(bytes).putShort(FormatLayout.VERSION_OFFSET, (short) 7);
        storage.overwrite(key, bytes);

        assertThatThrownBy(() -> Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()))
                .is(badObject(UNSUPPORTED_FORMAT))
                .hasMessageContaining("found=7 supported=" + FormatLayout.SEGMENT_FORMAT_VERSION);
    }

    @Test
    void run_missingSegment_throwsTxidGap() {
        String key = segmentKeys().get(3);
        storage.delete(key);

        assertThatThrownBy(() -> Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()))
                .is(badObject(TXID_GAP))
                .hasMessageContaining("expected=4").hasMessageContaining("found=5");
    }

    @Test
    void run_segmentOfAnotherPageSize_throwsPageSizeMismatch() throws Exception {
        MemoryStorage other = new MemoryStorage();
        try (Primary primary = Primary.open(other, dir.resolve("p.db-other"),
                PrimaryOptions.builder().pageSize(1024).build())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            primary.write(conn -> exec(conn, "insert into t values (1)")).get();
        }
        String key = ObjectKey.segment(7);
        storage.putIfAbsent(key, rekey(other.get(ObjectKey.segment(1)).orElseThrow(), 7));

        assertThatThrownBy(() -> Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()))
                .is(badObject(PAGE_SIZE_MISMATCH))
                .hasMessageContaining("expected=4096 actual=1024").hasMessageContaining("key=" + key);
    }

    @Test
    void run_segmentOfAnotherHistory_throwsCorruptObjectOnChecksumBefore() throws Exception {
        MemoryStorage other = new MemoryStorage();
        try (Primary primary = Primary.open(other, dir.resolve("p.db-other"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table u(y)")).get();
            for (int i = 0; i < 7; i++) {
                primary.write(conn -> exec(conn, "insert into u values (1)")).get();
            }
        }
        storage.putIfAbsent(ObjectKey.segment(7), other.get(ObjectKey.segment(7)).orElseThrow());

        assertThatThrownBy(() -> Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()))
                .is(badObject(CORRUPT)).hasMessageContaining("another history");
    }

    @Test
    void run_targetBeyondLog_throwsTxidNotAvailable() {
        assertThatThrownBy(() -> Restore.run(storage, dir.resolve("r.db"), RestoreTarget.txid(99)))
                .isInstanceOf(TxidNotAvailableException.class)
                .hasMessageContaining("requested=txid=99").hasMessageContaining("latest=6");
    }

    @Test
    void run_emptyStorage_throwsTxidNotAvailableWithHint() {
        assertThatThrownBy(() -> Restore.run(new MemoryStorage(), dir.resolve("r.db"), RestoreTarget.latest()))
                .isInstanceOf(TxidNotAvailableException.class)
                .hasMessageContaining("storage holds no snapshot");
    }

    @Test
    void run_existingTarget_isRefusedAndUntouched() throws Exception {
        Path target = dir.resolve("p.db-existing");
        Files.writeString(target, "keep me");

        assertThatThrownBy(() -> Restore.run(storage, target, RestoreTarget.latest()))
                .isInstanceOf(UncheckedIOException.class).hasMessageContaining("never overwrites");
        assertThat(Files.readString(target)).isEqualTo("keep me");
    }

    /** A segment re-labelled to start at another txid, its checksums resealed. */
    private static byte[] rekey(byte[] segment, long firstTxid) {
        io.walship.internal.log.SegmentReader reader = io.walship.internal.log.SegmentReader.open("x", segment);
        List<io.walship.internal.log.Transaction> relabelled = new java.util.ArrayList<>();
        long txid = firstTxid;
        for (var t : io.walship.internal.log.Transaction.readAll(reader)) {
            int[] pgnos = new int[t.pageCount()];
            for (int i = 0; i < pgnos.length; i++) {
                pgnos[i] = t.pgno(i);
            }
            relabelled.add(new io.walship.internal.log.Transaction(txid++, t.commitMillis(), t.databasePages(),
                    t.pageSize(), pgnos, t.pageImages(), t.checksumAfter()));
        }
        return io.walship.internal.log.Transaction.segment(reader.pageSize(), reader.checksumBefore(),
                relabelled.toArray(new io.walship.internal.log.Transaction[0]));
    }
}
