package io.walship.replica;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An application that follows a replica on file storage gets wal-core, sqlite-jdbc, JNA, LZ4 and
 * SLF4J, not a storage client or the command line. Regression for replica depending on
 * storage-s3 and picocli at compile scope (56 jars, 34 MB for a file-storage-only application).
 * This module's test classpath holds only its own dependencies and test tools.
 */
class LeanDependenciesTest {
    @ParameterizedTest
    @ValueSource(strings = {
        "software.amazon.awssdk.services.s3.S3Client",
        "io.walship.storage.s3.S3Storage",
        "io.netty.channel.Channel",
        "org.apache.hc.client5.http.classic.HttpClient",
        "picocli.CommandLine",
        "io.walship.cli.WalshipCommand",
        "io.micrometer.prometheusmetrics.PrometheusMeterRegistry",
    })
    void replica_bringsNoStorageClientCommandLineOrMetricsBackend(String type) {
        assertThatThrownBy(() -> Class.forName(type)).isInstanceOf(ClassNotFoundException.class);
    }
}
