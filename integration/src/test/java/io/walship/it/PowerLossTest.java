package io.walship.it;

import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Durability;
import io.walship.OpenOutcome;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.internal.capture.WalLayout;
import io.walship.internal.capture.WalReader;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.Rows;
import io.walship.testing.SqliteCli;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A power cut emulated on what a SIGKILL left: SQLite (synchronous=NORMAL) does not fsync the
 * WAL per commit, so a power failure may cut the WAL's tail, including transactions that were
 * already stored and acknowledged. The file is then behind storage and must catch up from
 * storage's log, writing only the missing pages, not be rebuilt.
 */
class PowerLossTest {
    @TempDir
    Path dir;

    @Test
    void reopen_walTailCutAfterAnEarlierCommit_catchesUpFromStorageWritingOnlyTheMissingPages() throws Exception {
        Path storageDir = dir.resolve("storage");
        Path db = dir.resolve("app.db");
        long committed = KilledWriter.afterWriting(storageDir, db, Durability.DURABLE, 40);
        Path wal = dir.resolve("app.db-wal");
        long pageCount = Files.size(db) / 4096;
        try (FileChannel channel = FileChannel.open(wal, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            List<Long> commits = WalReader.scan(channel, 4096).commitFrames();
            assertThat(commits).hasSize((int) committed);
            channel.truncate(WalLayout.frameOffset(commits.get(9), 4096) + 1000); // commit 10, then a torn frame
        }

        try (Primary primary = Primary.open(FileSystemStorage.open(storageDir), db, PrimaryOptions.durable())) {
            OpenOutcome outcome = primary.openOutcome();
            assertThat(outcome.kind()).isEqualTo(OpenOutcome.Kind.CAUGHT_UP);
            assertThat(outcome.fileRead()).as("the checkpoint record vouched for the file").isFalse();
            assertThat(outcome.walTransactions()).isEqualTo(10);
            assertThat(outcome.appliedTransactions()).isEqualTo(committed - 10);
            assertThat(outcome.pagesWritten()).as("the pages of %d one-row inserts, not %d pages of a restore",
                    committed - 10, pageCount).isBetween(committed - 10, 2 * (committed - 10));
            assertThat(outcome.movedAside()).isEmpty();
            assertThat(primary.txid()).isEqualTo(committed);
            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(40 * 41 / 2);
            Path restored = dir.resolve("restored.db");
            Restore.run(FileSystemStorage.open(storageDir), restored, RestoreTarget.latest());
            assertThat(Rows.fingerprint(restored)).isEqualTo(primary.read(Rows::fingerprint));
        }
        assertThat(SqliteCli.integrityCheck(db)).isEqualTo("ok");
    }
}
