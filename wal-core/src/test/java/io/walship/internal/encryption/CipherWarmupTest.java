package io.walship.internal.encryption;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.encryption.Encryption;
import io.walship.encryption.KeyProvider;
import io.walship.testing.MemoryStorage;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CipherWarmupTest {
    @Test
    void theFirstEncryptingStorage_warmsTheCipherOnce_onADaemonThreadThatEnds() throws Exception {
        Encryption encryption = Encryption.with(KeyProvider.of(Map.of("k1", new byte[32])));
        encryption.wrap(new MemoryStorage());
        Thread warmup = CipherWarmup.thread();
        assertThat(warmup).as("started by the first encrypting storage").isNotNull();
        assertThat(warmup.isDaemon()).as("never keeps a JVM alive").isTrue();
        encryption.wrap(new MemoryStorage()).under("db");
        assertThat(CipherWarmup.thread()).as("once per JVM").isSameAs(warmup);
        warmup.join(60_000);
        assertThat(warmup.isAlive()).as("a bounded amount of work").isFalse();
    }
}
