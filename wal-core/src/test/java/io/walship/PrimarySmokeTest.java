package io.walship;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.testing.MemoryStorage;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrimarySmokeTest {
    @TempDir
    Path dir;

    @Test
    void write_thenRestore_seesRows() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        long txid;
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), PrimaryOptions.durable())) {
            primary.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.executeUpdate("create table t(x)");
                }
            }).get();
            for (int i = 0; i < 100; i++) {
                int v = i;
                primary.write(conn -> {
                    try (Statement s = conn.createStatement()) {
                        s.executeUpdate("insert into t values (" + v + ")");
                    }
                });
            }
            txid = primary.flush().get();
            long count = primary.read(conn -> {
                try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("select count(*) from t")) {
                    rs.next();
                    return rs.getLong(1);
                }
            });
            assertThat(count).isEqualTo(100);
        }
        assertThat(txid).isEqualTo(101);
        RestoreResult result = Restore.run(storage, dir.resolve("copy.db"), RestoreTarget.latest());
        assertThat(result.txid()).isEqualTo(101);
        try (var conn = java.sql.DriverManager.getConnection("jdbc:sqlite:" + result.path());
             Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("select count(*), sum(x) from t")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(100);
            assertThat(rs.getLong(2)).isEqualTo(4950);
        }
    }
}
