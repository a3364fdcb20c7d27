package io.walship;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.testing.MemoryStorage;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two primaries on one storage: exactly one keeps writing, the other stops with a fencing error.
 * Racing writers with a following replica: {@code it.SplitBrainTest}.
 */
class FencingTest {
    @TempDir
    Path dir;

    @Test
    void write_secondPrimaryBehindTheFirst_isFenced() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        try (Primary first = Primary.open(storage, dir.resolve("a.db"), PrimaryOptions.durable())) {
            first.write(conn -> exec(conn, "create table t(x)")).get();
            try (Primary second = Primary.open(storage, dir.resolve("b.db"), PrimaryOptions.durable())) {
                first.write(conn -> exec(conn, "insert into t values (1)")).get();

                Ack<Void> lost = second.write(conn -> exec(conn, "insert into t values (2)"));
                assertThatThrownBy(lost::get).isInstanceOf(FencedException.class)
                        .hasMessageContaining("key=log/0000000000000002")
                        .hasMessageContaining("txid=2");
                assertThatThrownBy(() -> second.write(conn -> exec(conn, "insert into t values (3)")))
                        .isInstanceOf(FencedException.class);
            }
            first.write(conn -> exec(conn, "insert into t values (4)")).get();
        }
        assertThat(queryLong(Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()).path(),
                "select sum(x) from t")).isEqualTo(5);
    }

    @Test
    void open_twoPrimariesBootstrappingOneStorage_oneIsFenced() {
        MemoryStorage storage = new MemoryStorage();
        io.walship.testing.SqliteCli.run(dir.resolve("x.db"), "create table x(a);");
        try (Primary first = Primary.open(storage, dir.resolve("y.db"), PrimaryOptions.durable())) {
            // storage now has a snapshot at 0 of y.db: x.db is rebuilt, not bootstrapped
            try (Primary second = Primary.open(storage, dir.resolve("x.db"), PrimaryOptions.durable())) {
                assertThat(second.txid()).isZero();
            }
        }
        assertThat(dir.resolve("x.db")).exists();
    }
}
