package io.walship.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.OpenOutcome;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.TxidRange;
import io.walship.compaction.CompactionPolicy;
import io.walship.compaction.CompactionResult;
import io.walship.compaction.Compactor;
import io.walship.internal.log.LogLookup;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.StoredHistory;
import io.walship.restore.Restore;
import io.walship.restore.Verifier;
import io.walship.testing.CheckedHistory;
import io.walship.testing.MisleadingListings;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * walship on a storage whose LIST misleads as real ones can: it omits keys that exist, shows new
 * ones late and deleted ones stale, in any order. A listing is a hint: no decision may take it as
 * proof that what it does not show does not exist. Each backend's test extends this class
 * unchanged and supplies a fresh, empty storage; reads and writes stay the backend's own.
 */
public abstract class ListingHintContractTest {
    @TempDir
    protected Path temp;

    private Storage real;
    private MisleadingListings storage;
    private final CheckedHistory history = new CheckedHistory(5);

    /** A new, empty storage. */
    protected abstract Storage createStorage() throws Exception;

    @BeforeEach
    void setUpStorage() throws Exception {
        real = createStorage();
        storage = new MisleadingListings(real, 5);
    }

    @AfterEach
    void closeStorage() {
        real.close();
    }

    /** Table at txid 1, then one segment per txid up to {@code last}, with the listing honest. */
    private void writeThrough(long last) throws Exception {
        try (Primary primary = Primary.open(storage, temp.resolve("app.db"), PrimaryOptions.builder()
                .compaction(null).build())) {
            if (primary.txid() == 0) {
                history.createTable(primary);
            }
            while (primary.txid() < last) {
                history.writeOne(primary);
            }
        }
    }

    @Test
    void restoreVerifyAndTheNewestPosition_findTheObjectsTheListingMissed() throws Exception {
        writeThrough(40);
        storage.hide(ObjectKey.segment(40)).hide(ObjectKey.segment(17));

        assertThat(LogLookup.latestPosition(storage).orElseThrow().txid()).isEqualTo(40);
        history.assertRestoresExactly(storage, 40, temp);
        history.assertRestoresExactly(storage, 20, temp);
        Verifier.Report report = Verifier.verify(storage, temp, Restore.Progress.NONE);
        assertThat(report.problem()).isEmpty();
        assertThat(report.latestTxid()).isEqualTo(40);
        assertThat(StoredHistory.read(storage).restorable()).containsExactly(new TxidRange(0, 40));
    }

    @Test
    void primaryReopened_withItsNewestSegmentUnlisted_resumesWithoutFencingItselfOrRebuilding() throws Exception {
        writeThrough(30);
        storage.hide(ObjectKey.segment(30)).hide(ObjectKey.segment(29));

        try (Primary primary = Primary.open(storage, temp.resolve("app.db"), PrimaryOptions.builder()
                .compaction(null).build())) {
            assertThat(primary.openOutcome().kind()).isEqualTo(OpenOutcome.Kind.RESUMED);
            assertThat(primary.storedTxid()).isEqualTo(30);
            history.writeOne(primary);
        }
        storage.honest();
        history.assertRestoresExactly(storage, 31, temp);
    }

    @Test
    void compaction_onListingsThatOmitDelayAndReorderKeys_neverCostsATxid() throws Exception {
        writeThrough(150);
        storage.omit(0.2).late(20).stale(20).shuffled();
        CompactionResult settled;
        try (Compactor compactor = new Compactor(storage, CompactionPolicy.defaults().withGrace(Duration.ZERO),
                InstantSource.system(), temp)) {
            for (int run = 0; run < 25; run++) {
                assertThat(compactor.run().problems()).as("run %d", run).isEmpty();
            }
            storage.honest();
            compactor.run(); // what this run writes, the next deletes for
            Thread.sleep(5);
            settled = compactor.run();
            assertThat(settled.problems()).isEmpty();
            assertThat(settled.restorable()).containsExactly(new TxidRange(0, 150));
        }
        assertThat(real.list(ObjectKey.LOG_PREFIX)).as("compacted: %s, settled %s", real.list(ObjectKey.LOG_PREFIX),
                settled).hasSizeLessThan(60);
        assertThat(Verifier.verify(real, temp, Restore.Progress.NONE).problem()).isEmpty();
        for (long txid : List.of(1L, 15L, 16L, 31L, 47L, 64L, 100L, 127L, 128L, 149L, 150L)) {
            history.assertRestoresExactly(real, txid, temp);
        }
    }

    @Test
    void storedHistory_provesTheSameRangesWhateverTheListingOmits() throws Exception {
        writeThrough(60);
        List<TxidRange> honest = StoredHistory.read(real).restorable();
        assertThat(honest).containsExactly(new TxidRange(0, 60));

        storage.omit(0.4, ObjectKey.LOG_PREFIX).shuffled(); // a snapshot the listing misses is a range it does not know
        for (int i = 0; i < 10; i++) {
            StoredHistory misled = StoredHistory.read(storage);
            assertThat(misled.restorable()).as("attempt %d", i).isEqualTo(honest);
            assertThat(misled.holes()).isEmpty();
        }
    }
}
