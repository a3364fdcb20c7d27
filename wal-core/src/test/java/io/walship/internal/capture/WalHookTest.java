package io.walship.internal.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;

class WalHookTest {
    @TempDir
    Path dir;

    private Connection open(Path db) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.enableLoadExtension(true);
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        return config.createConnection("jdbc:sqlite:" + db);
    }

    @Test
    void commit_attachedConnection_reportsFrameCountOncePerCommit() throws Exception {
        List<Integer> frames = new CopyOnWriteArrayList<>();
        try (Connection conn = open(dir.resolve("a.db"))) {
            long token = WalHook.attach(conn, frames::add);
            try (Statement s = conn.createStatement()) {
                s.executeUpdate("create table t(x)");
                s.executeUpdate("insert into t values (1)");
                conn.setAutoCommit(false);
                s.executeUpdate("insert into t values (2)");
                conn.rollback();
                s.executeUpdate("insert into t values (3)");
                conn.commit();
            }
            WalHook.detach(conn, token);
        }
        assertThat(frames).hasSize(3);
        assertThat(frames).isSorted();
        assertThat(frames.get(0)).isPositive();
    }

    @Test
    void attach_switchesExtensionLoadingOffAgain() throws Exception {
        try (Connection conn = open(dir.resolve("b.db"))) {
            long token = WalHook.attach(conn, f -> { });
            try (Statement s = conn.createStatement()) {
                assertThatThrownBy(() -> s.executeQuery("select load_extension('/nonexistent/lib.so')"))
                        .isInstanceOf(SQLException.class)
                        .hasMessageContaining("not authorized");
            }
            WalHook.detach(conn, token);
        }
    }
}
