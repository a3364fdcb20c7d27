package io.walship;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.testing.MemoryStorage;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection a write's work gets is lent, not given: closing it (try-with-resources on the
 * parameter) cannot break the primary, using it after the work is refused, and a work that reaches
 * the writer itself and closes it stops the primary loudly instead of leaving it RUNNING with every
 * later write failing.
 */
class WriteConnectionTest {
    @TempDir
    Path dir;

    private final MemoryStorage storage = new MemoryStorage();

    /** Regression: conn.close() inside write broke every later write ("database connection closed") while status() said RUNNING. */
    @Test
    void workThatClosesItsConnection_commits_andLaterWritesWork() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            for (int i = 1; i <= 3; i++) {
                int value = i;
                primary.write(conn -> {
                    try (Connection c = conn; Statement s = c.createStatement()) {
                        s.executeUpdate("insert into t values (" + value + ")");
                    }
                }).get();
            }
            primary.write(conn -> {
                conn.close();
                assertThat(conn.isClosed()).isTrue();
                assertThatThrownBy(() -> conn.createStatement()).isInstanceOf(SQLException.class)
                        .hasMessageContaining("closed by the work");
            }).get();
            primary.write(conn -> exec(conn, "insert into t values (4)")).get();

            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(10);
            assertThat(primary.status().health()).isEqualTo(Health.RUNNING);
            assertThat(primary.checkpoint()).isTrue();
        }
    }

    @Test
    void connectionKeptPastTheWork_isRefused() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), PrimaryOptions.durable())) {
            AtomicReference<Connection> kept = new AtomicReference<>();
            primary.write(conn -> {
                kept.set(conn);
                exec(conn, "create table t(x)");
            }).get();

            assertThatThrownBy(() -> exec(kept.get(), "insert into t values (1)")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("only while the work of Primary.write runs");
            assertThatThrownBy(() -> kept.get().abort(Runnable::run)).isInstanceOf(SQLException.class);
            assertThat(queryLong(primary, "select count(*) from t")).isZero();
        }
    }

    @Test
    void workThatClosesTheWriterItself_failsThePrimaryLoudly() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();

            assertThatThrownBy(() -> primary.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.getConnection().close(); // the statement's connection is SQLite's own
                }
            })).isInstanceOf(NotStoredException.class).hasMessageContaining("closed by the work");

            assertThat(primary.status().health()).isEqualTo(Health.FAILED);
            assertThat(primary.status().error()).get().satisfies(p -> assertThat(p.message())
                    .contains("writer connection was closed"));
            assertThatThrownBy(() -> primary.write(conn -> exec(conn, "insert into t values (1)")))
                    .isInstanceOf(NotStoredException.class).hasMessageContaining("open it again");
        }
    }
}
