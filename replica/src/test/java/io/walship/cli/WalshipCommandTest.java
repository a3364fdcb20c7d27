package io.walship.cli;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.format.ObjectKey;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.SqliteCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as a script sees it: output, error text and exit codes. */
class WalshipCommandTest {
    @TempDir
    Path dir;

    private Path storageDir;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void ship() throws Exception {
        storageDir = dir.resolve("storage");
        try (Primary primary = Primary.open(FileSystemStorage.open(storageDir), dir.resolve("app.db"),
                PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            for (int i = 1; i <= 10; i++) {
                int v = i;
                primary.write(conn -> exec(conn, "insert into t values (" + v + ")")).get();
            }
        }
    }

    private int run(String... args) {
        return WalshipCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    private String url() {
        return "file://" + storageDir;
    }

    @Test
    void restore_latest_writesFileAndExitsZero() throws Exception {
        assertThat(run("restore", url(), "--to", dir.resolve("r.db").toString())).isZero();
        assertThat(out.toString()).contains("txid=11");
        assertThat(queryLong(dir.resolve("r.db"), "select sum(x) from t")).isEqualTo(55);
        assertThat(SqliteCli.integrityCheck(dir.resolve("r.db"))).isEqualTo("ok");
    }

    @Test
    void restore_atTxid_restoresThatState() throws Exception {
        assertThat(run("restore", storageDir.toString(), "--to", dir.resolve("r.db").toString(), "--txid", "4")).isZero();
        assertThat(queryLong(dir.resolve("r.db"), "select sum(x) from t")).isEqualTo(6);
    }

    @Test
    void restore_txidNotInStorage_exitsFour() {
        assertThat(run("restore", url(), "--to", dir.resolve("r.db").toString(), "--txid", "500")).isEqualTo(4);
        assertThat(err.toString()).contains("requested=txid=500").contains("latest=11");
        assertThat(dir.resolve("r.db")).doesNotExist();
    }

    @Test
    void restore_existingTarget_exitsSixAndKeepsFile() throws Exception {
        Files.writeString(dir.resolve("r.db"), "mine");
        assertThat(run("restore", url(), "--to", dir.resolve("r.db").toString())).isEqualTo(6);
        assertThat(Files.readString(dir.resolve("r.db"))).isEqualTo("mine");
    }

    @Test
    void restore_txidAndTimeTogether_isUsageError() {
        assertThat(run("restore", url(), "--to", "x.db", "--txid", "1", "--time", "2026-01-01T00:00:00Z"))
                .isEqualTo(2);
    }

    @Test
    void anyCommand_unknownScheme_isUsageErrorNamingSchemes() {
        assertThat(run("ls", "ftp://user:secret@host/x")).isEqualTo(2);
        assertThat(err.toString()).contains("supported: file://").doesNotContain("secret");
    }

    @Test
    void ls_listsSnapshotsAndSegments() {
        assertThat(run("ls", url(), "-v")).isZero();
        assertThat(out.toString()).contains("snapshot").contains("segment").contains("latest txid 11")
                .contains("1 snapshots, 11 segments");
    }

    @Test
    void verify_intactHistory_printsOk() {
        assertThat(run("verify", url())).isZero();
        assertThat(out.toString()).contains("transactions=11").contains("ok");
    }

    @Test
    void verify_damagedSegment_exitsThreeNamingIt() throws Exception {
        Path segment = storageDir.resolve(ObjectKey.segment(5));
        byte[] bytes = Files.readAllBytes(segment);
        bytes[bytes.length / 2] ^= 1;
        Files.write(segment, bytes);

        assertThat(run("verify", url())).isEqualTo(3);
        assertThat(err.toString()).contains("key=log/0000000000000005");
        assertThat(out.toString()).as("segments before the bad one").contains("segments=4");
    }

    @Test
    void verify_missingSegment_exitsThreeWithGap() throws Exception {
        Files.delete(storageDir.resolve(ObjectKey.segment(7)));
        assertThat(run("verify", url())).isEqualTo(3);
        assertThat(err.toString()).contains("txid gap").contains("expected=7");
    }

    @Test
    void snapshot_buildsSnapshotThatRestoresAndVerifies() throws Exception {
        assertThat(run("snapshot", url())).isZero();
        assertThat(out.toString()).contains("snapshot txid=11").contains("stored");
        assertThat(storageDir.resolve(ObjectKey.snapshot(11))).exists();
        assertThat(run("snapshot", url())).isZero();
        assertThat(out.toString()).contains("already in storage");
        assertThat(run("verify", url())).isZero();
        assertThat(out.toString()).contains("snapshots=2");
    }

    @Test
    void follow_once_createsReplicaAtLatest() throws Exception {
        assertThat(run("follow", url(), "--db", dir.resolve("f.db").toString(), "--once")).isZero();
        assertThat(out.toString()).contains("txid=11");
        assertThat(queryLong(dir.resolve("f.db"), "select sum(x) from t")).isEqualTo(55);
    }

    @Test
    void follow_untilTxid_exitsOnceReached() throws Exception {
        try (Primary primary = Primary.open(FileSystemStorage.open(storageDir), dir.resolve("app.db"),
                PrimaryOptions.durable())) {
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < 5; i++) {
                        primary.write(conn -> exec(conn, "insert into t values (100)")).get();
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            writer.start();
            assertThat(run("follow", url(), "--db", dir.resolve("f.db").toString(), "--until-txid", "16",
                    "--interval", "PT0.005S")).isZero();
            writer.join();
        }
        assertThat(out.toString()).contains("replica " + dir.resolve("f.db") + " txid=16");
    }
}
