package io.walship.compaction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.TxidNotAvailableException;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.ObjectKey;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.restore.Verifier;
import io.walship.storage.ForwardingStorage;
import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.testing.CheckedHistory;
import io.walship.testing.ManualClock;
import io.walship.testing.MemoryStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compaction and retention keep storage bounded while every txid inside the window restores to
 * exactly what the primary held; readers racing a deleting compactor plan again; two compactors
 * agree byte for byte; a compactor killed at any write or delete leaves storage consistent.
 */
class CompactionTest {
    private static final Instant START = Instant.parse("2026-01-05T00:00:00Z");

    @TempDir
    Path dir;

    private final ManualClock clock = new ManualClock(START);
    private final MemoryStorage storage = new MemoryStorage(clock);
    private final Random random = new Random(42);
    private final CheckedHistory history = new CheckedHistory(42);

    private PrimaryOptions options() {
        return PrimaryOptions.builder().clock(clock).compaction(null).snapshotInterval(Duration.ofHours(6))
                .build();
    }

    private static long snapshotBytes(Storage storage) {
        return storage.list(ObjectKey.SNAPSHOT_PREFIX).stream().mapToLong(ObjectInfo::size).sum();
    }

    private long writeOne(Primary primary) throws Exception {
        return history.writeOne(primary);
    }

    private Primary openWithTable() throws Exception {
        Primary primary = Primary.open(storage, dir.resolve("app.db"), options());
        history.createTable(primary);
        return primary;
    }

    private Compactor compactor(Storage on, Duration retention, Duration grace) {
        return new Compactor(on, CompactionPolicy.defaults().withRetention(retention).withGrace(grace), clock, dir);
    }

    private RestoreResult assertRestoresExactly(Storage from, long txid) throws Exception {
        return history.assertRestoresExactly(from, txid, dir);
    }

    @Test
    void simulatedWeeks_keepObjectsAndBytesBounded_andEveryTxidInTheWindowRestoresExactly() throws Exception {
        Duration retention = Duration.ofDays(2);
        Compactor compactor = compactor(storage, retention, Duration.ofMinutes(1));
        // the same objects, compacted with a window longer than the run: what retention saves
        MemoryStorage unbounded = new MemoryStorage(clock);
        Compactor keepingAll = compactor(unbounded, Duration.ofDays(365), Duration.ofMinutes(1));
        Storage both = new ForwardingStorage(storage) {
            @Override
            protected PutResult put(String key, Supplier<PutResult> call) {
                PutResult result = call.get();
                unbounded.putIfAbsent(key, storage.get(key).orElseThrow());
                return result;
            }
        };
        List<Integer> objectsByDay = new ArrayList<>();
        long latest;
        try (Primary primary = Primary.open(both, dir.resolve("app.db"), options())) {
            history.createTable(primary);
            latest = 0;
            for (int day = 1; day <= 6; day++) {
                for (int minute = 0; minute < 24 * 60; minute++) { // one transaction a minute
                    clock.advance(Duration.ofMinutes(1));
                    latest = writeOne(primary);
                    if (minute % 10 == 9) {
                        compactor.run();
                        keepingAll.run();
                    }
                }
                objectsByDay.add(compactor.run().objects());
            }
        }

        // 1,440 segments a day: bounded by compaction, and past the window by retention
        assertThat(objectsByDay).as("objects at the end of each day").allMatch(n -> n <= 200);
        CompactionResult kept = compactor.run();
        keepingAll.run();
        long database = Files.size(dir.resolve("app.db")) + Files.size(dir.resolve("app.db-wal"));
        // snapshots thinned to one an hour (last day) and one a day (before) dominate: storage holds
        // a handful of copies of the database plus a compacted log, not one copy per snapshot taken
        assertThat(kept.bytes()).as("bytes kept, database of %d bytes", database).isLessThan(16 * database);
        // retention drops the snapshots before the window that a year's window keeps
        assertThat(snapshotBytes(storage)).isLessThan(snapshotBytes(unbounded));

        LogCatalog catalog = LogCatalog.list(storage);
        long earliest = catalog.earliestSnapshot().getAsLong();
        Instant earliestStored = catalog.snapshots().firstEntry().getValue().lastModified();
        assertThat(earliestStored).as("the window's start is restorable, and not much more is kept")
                .isBeforeOrEqualTo(clock.instant().minus(retention))
                .isAfter(clock.instant().minus(retention).minus(Duration.ofHours(7)));
        assertThat(catalog.level(0)).as("small segments left").hasSizeLessThan(60);

        assertRestoresExactly(storage, latest);
        assertRestoresExactly(storage, earliest);
        for (int i = 0; i < 12; i++) {
            assertRestoresExactly(storage, earliest + (long) (random.nextDouble() * (latest - earliest)));
        }
        assertThatThrownBy(() -> Restore.run(storage, dir.resolve("before.db"), RestoreTarget.txid(earliest - 1)))
                .isInstanceOfSatisfying(TxidNotAvailableException.class,
                        e -> assertThat(e.earliest()).isEqualTo(earliest))
                .hasMessageContaining("earliest=" + earliest);
        Verifier.Report report = Verifier.verify(storage, dir, Restore.Progress.NONE);
        assertThat(report.problem()).isEmpty();
        assertThat(report.earliestTxid()).isEqualTo(earliest);
        assertThat(report.latestTxid()).isEqualTo(latest);
    }

    @Test
    void compactedObjects_areByteIdenticalWhoeverWritesThem_andTwoCompactorsAtOnceAgree() throws Exception {
        long latest = 0;
        try (Primary primary = openWithTable()) {
            for (int i = 0; i < 600; i++) {
                latest = writeOne(primary);
            }
        }
        MemoryStorage copy = copyOf(storage);
        // two compactors at once on one storage, a third alone on a copy
        Compactor first = compactor(storage, Duration.ofDays(7), Duration.ZERO);
        Compactor second = compactor(storage, Duration.ofDays(7), Duration.ZERO);
        CompletableFuture<Void> a = CompletableFuture.runAsync(() -> repeat(first, 5));
        CompletableFuture<Void> b = CompletableFuture.runAsync(() -> repeat(second, 5));
        a.get(60, java.util.concurrent.TimeUnit.SECONDS);
        b.get(60, java.util.concurrent.TimeUnit.SECONDS);
        compactor(copy, Duration.ofDays(7), Duration.ZERO).run();

        List<ObjectInfo> compacted = storage.list(ObjectKey.LOG_PREFIX).stream()
                .filter(o -> ObjectKey.parseLog(o.key()).orElseThrow().level() > 0).toList();
        assertThat(compacted).isNotEmpty();
        for (ObjectInfo object : compacted) {
            assertThat(copy.get(object.key())).as(object.key()).isPresent();
            assertThat(copy.get(object.key()).get()).as(object.key()).isEqualTo(storage.get(object.key()).get());
        }
        assertThat(storage.list(ObjectKey.LOG_PREFIX)).extracting(ObjectInfo::key)
                .containsExactlyElementsOf(copy.list(ObjectKey.LOG_PREFIX).stream().map(ObjectInfo::key).toList());
        for (long txid = 1; txid <= latest; txid += 37) {
            assertRestoresExactly(storage, txid);
        }
        assertRestoresExactly(storage, latest);
        assertThat(Verifier.verify(storage, dir, Restore.Progress.NONE).problem()).isEmpty();
    }

    @Test
    void restoreRacingADeletingCompactor_listsAgainAndRestoresExactly() throws Exception {
        long latest = 0;
        try (Primary primary = openWithTable()) {
            for (int i = 0; i < 300; i++) {
                latest = writeOne(primary);
            }
        }
        // the compactor runs (grace 0: deleting what it compacts) right after the restore listed
        Compactor compactor = compactor(storage, Duration.ofDays(7), Duration.ZERO);
        AtomicInteger runs = new AtomicInteger();
        Storage racing = new ForwardingStorage(storage) {
            @Override
            public Optional<java.io.InputStream> open(String key) {
                if (key.startsWith(ObjectKey.LOG_PREFIX) && runs.getAndIncrement() == 0) {
                    compactor.run();
                }
                return super.open(key);
            }
        };
        RestoreResult result = assertRestoresExactly(racing, latest);
        assertThat(runs.get()).isGreaterThan(0);
        assertThat(result.replans()).as("objects were deleted under the restore: it planned again").isPositive();
        assertThat(storage.list(ObjectKey.LOG_PREFIX)).as("the compactor did delete")
                .hasSizeLessThan((int) latest / 2);
    }

    @Test
    void compactorKilledAtAnyWriteOrDelete_leavesStorageThatTheNextRunAndEveryRestoreHandle() throws Exception {
        long latest = 0;
        try (Primary primary = openWithTable()) {
            for (int i = 0; i < 300; i++) {
                clock.advance(Duration.ofMinutes(30));
                latest = writeOne(primary);
            }
        }
        clock.advance(Duration.ofHours(1));
        Duration retention = Duration.ofDays(2);
        int mutations = countMutations(copyOf(storage), retention);
        assertThat(mutations).as("a run that writes and deletes").isGreaterThan(3);
        for (int killAt = 1; killAt <= mutations; killAt++) {
            MemoryStorage killed = copyOf(storage);
            Storage dying = dyingAt(killed, killAt);
            assertThatThrownBy(() -> compactor(dying, retention, Duration.ZERO).run())
                    .isInstanceOf(Killed.class);
            // storage as the kill left it, then a later run
            assertThat(Verifier.verify(killed, dir, Restore.Progress.NONE).problem()).as("killed at %d", killAt)
                    .isEmpty();
            compactor(killed, retention, Duration.ZERO).run();
            assertThat(Verifier.verify(killed, dir, Restore.Progress.NONE).problem()).isEmpty();
            long earliest = LogCatalog.list(killed).earliestSnapshot().getAsLong();
            assertRestoresExactly(killed, latest);
            assertRestoresExactly(killed, earliest + (latest - earliest) / 2);
        }
    }

    @Test
    void primaryWhoseFileIsAnOldCopy_catchesUpThroughCompactedObjects() throws Exception {
        Path db = dir.resolve("app.db");
        try (Primary primary = openWithTable()) {
            for (int i = 0; i < 40; i++) {
                writeOne(primary);
            }
        }
        Path old = dir.resolve("old");
        Files.createDirectories(old);
        Files.copy(db, old.resolve("app.db"));
        Files.copy(dir.resolve("app.db-walship.checkpoint"), old.resolve("app.db-walship.checkpoint"));
        long latest = 0;
        try (Primary primary = Primary.open(storage, db, options())) {
            for (int i = 0; i < 400; i++) {
                latest = writeOne(primary);
            }
        }
        Compactor compactor = compactor(storage, Duration.ofDays(7), Duration.ZERO);
        compactor.run();
        clock.advance(Duration.ofSeconds(1));
        compactor.run();
        assertThat(storage.get(ObjectKey.segment(43))).as("the old copy's next segment is compacted away").isEmpty();

        try (Primary primary = Primary.open(storage, old.resolve("app.db"), options())) {
            assertThat(primary.openOutcome().kind()).isEqualTo(io.walship.OpenOutcome.Kind.CAUGHT_UP);
            assertThat(primary.txid()).isEqualTo(latest);
            long txid = latest;
            primary.read(conn -> {
                history.assertState(conn, txid);
                return null;
            });
        }
    }

    @Test
    void verify_readsTheSmallObjectsACompactedObjectReplaces_andNamesABadOne() throws Exception {
        try (Primary primary = openWithTable()) {
            for (int i = 0; i < 100; i++) {
                writeOne(primary);
            }
        }
        compactor(storage, Duration.ofDays(7), Duration.ofDays(1)).run(); // compacted; small ones kept (grace)
        Verifier.Report good = Verifier.verify(storage, dir, Restore.Progress.NONE);
        assertThat(good.problem()).isEmpty();
        assertThat(good.segmentsChecked()).as("compacted objects and the segments they replace")
                .isGreaterThan(LogCatalog.list(storage).chain(0).size());

        String replaced = ObjectKey.segment(20);
        byte[] bytes = storage.get(replaced).orElseThrow();
        bytes[bytes.length / 2] ^= 1;
        storage.overwrite(replaced, bytes);
        Verifier.Report bad = Verifier.verify(storage, dir, Restore.Progress.NONE);
        assertThat(bad.problem()).get().satisfies(e -> assertThat(e.getMessage()).contains(replaced));
    }

    private int countMutations(MemoryStorage on, Duration retention) {
        AtomicInteger count = new AtomicInteger();
        Storage counting = new ForwardingStorage(on) {
            @Override
            protected PutResult put(String key, Supplier<PutResult> call) {
                count.incrementAndGet();
                return call.get();
            }

            @Override
            public void deleteAll(Collection<String> keys) {
                count.incrementAndGet();
                super.deleteAll(keys);
            }
        };
        compactor(counting, retention, Duration.ZERO).run();
        return count.get();
    }

    /** Thrown where the process would have died: nothing after it runs. */
    private static final class Killed extends RuntimeException {
        Killed(int at) {
            super("killed at storage mutation " + at);
        }
    }

    private static Storage dyingAt(MemoryStorage on, int at) {
        AtomicInteger count = new AtomicInteger();
        return new ForwardingStorage(on) {
            @Override
            protected PutResult put(String key, Supplier<PutResult> call) {
                if (count.incrementAndGet() == at) {
                    throw new Killed(at);
                }
                return call.get();
            }

            @Override
            public void deleteAll(Collection<String> keys) {
                if (count.incrementAndGet() == at) {
                    // dies half way through the batch
                    List<String> list = new ArrayList<>(keys);
                    super.deleteAll(list.subList(0, list.size() / 2));
                    throw new Killed(at);
                }
                super.deleteAll(keys);
            }
        };
    }

    private static void repeat(Compactor compactor, int times) {
        for (int i = 0; i < times; i++) {
            compactor.run();
        }
    }

    private MemoryStorage copyOf(MemoryStorage from) {
        MemoryStorage copy = new MemoryStorage(clock);
        for (String prefix : List.of(ObjectKey.SNAPSHOT_PREFIX, ObjectKey.LOG_PREFIX)) {
            for (ObjectInfo info : from.list(prefix)) {
                copy.putIfAbsent(info.key(), from.get(info.key()).orElseThrow());
            }
        }
        return copy;
    }
}
