package io.walship.regression;

import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Durability;
import io.walship.OpenOutcome;
import io.walship.it.KilledWriter;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.Rows;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue #11: Primary restart after a crash: resume, keep every local commit, never rebuild a
 * healthy file.
 *
 * <p>A primary killed with SIGKILL while transactions it had committed were not yet stored
 * (ASYNC: none of them; DURABLE: the one in flight) used to find its file "different from
 * storage" on reopen: it moved the file aside and restored storage's older state, dropping rows
 * whose {@code write} had returned. The file is storage's state plus the commits in its WAL, so
 * the reopen must keep them all, without reading the whole file, and ship them.
 */
class CommittedRowsLostOnRestartTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Durability.class)
    void reopenAfterKill_keepsEveryCommittedRowShipsTheUnstoredAndMovesNothingAside(Durability durability)
            throws Exception {
        Path storageDir = dir.resolve("storage");
        Path db = dir.resolve("app.db");
        long committed = KilledWriter.afterWriting(storageDir, db, durability, 500);

        try (Primary primary = Primary.open(FileSystemStorage.open(storageDir), db, PrimaryOptions.durable())) {
            OpenOutcome outcome = primary.openOutcome();
            assertThat(outcome.kind()).isEqualTo(OpenOutcome.Kind.RESUMED);
            assertThat(outcome.fileRead()).as("the checkpoint record vouched for the file").isFalse();
            assertThat(outcome.movedAside()).isEmpty();
            assertThat(primary.txid()).isEqualTo(committed);
            if (durability == Durability.ASYNC) {
                assertThat(outcome.unshippedTransactions()).as("nothing was uploaded before the kill")
                        .isEqualTo(committed);
            }
            assertThat(queryLong(primary, "select count(*) from t")).isEqualTo(500);
            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(500L * 501 / 2);

            assertThat(primary.flush().get()).as("the resumed transactions are stored").isEqualTo(committed);
            Path restored = dir.resolve("restored.db");
            Restore.run(FileSystemStorage.open(storageDir), restored, RestoreTarget.latest());
            assertThat(Rows.fingerprint(restored)).isEqualTo(primary.read(Rows::fingerprint));
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".diverged-"));
        }
    }
}
