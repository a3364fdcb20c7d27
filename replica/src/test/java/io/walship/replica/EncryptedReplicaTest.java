package io.walship.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.encryption.Encryption;
import io.walship.encryption.EncryptionException;
import io.walship.encryption.KeyProvider;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Rows;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A replica of an encrypted storage: follows with the keys, is refused without them. */
class EncryptedReplicaTest {
    @TempDir
    Path dir;

    @Test
    void followsWithTheKeys_andIsRefusedWithoutThem() throws Exception {
        byte[] key = new byte[32];
        new Random(11).nextBytes(key);
        Encryption encryption = Encryption.with(KeyProvider.of(Map.of("k1", key)));
        MemoryStorage storage = new MemoryStorage();
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"),
                PrimaryOptions.durable().toBuilder().encryption(encryption).build())) {
            primary.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.executeUpdate("create table t(x)");
                }
            }).get();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"),
                    ReplicaOptions.builder().encryption(encryption).build())) {
                replica.follow();
                long txid = 0;
                for (int i = 1; i <= 20; i++) {
                    int v = i;
                    txid = primary.write(conn -> {
                        try (Statement s = conn.createStatement()) {
                            s.executeUpdate("insert into t values (" + v + ")");
                        }
                    }).get();
                }
                assertThat(replica.awaitTxid(txid, Duration.ofSeconds(30))).isTrue();
                assertThat(Rows.queryLong(replica.path(), "select sum(x) from t")).isEqualTo(210);
            }
            assertThatThrownBy(() -> Replica.open(storage, dir.resolve("no-key.db"), ReplicaOptions.defaults()))
                    .isInstanceOfSatisfying(EncryptionException.class,
                            e -> assertThat(e.kind()).isEqualTo(EncryptionException.Kind.NO_KEY));
            assertThat(dir.resolve("no-key.db")).doesNotExist();
        }
    }
}
