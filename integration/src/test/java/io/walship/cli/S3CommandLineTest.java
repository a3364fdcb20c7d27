package io.walship.cli;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.storage.s3.S3ProxyServer;
import io.walship.storage.s3.S3Storage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The command line on s3:// URLs, credentials from the AWS default chain (here: system properties). */
class S3CommandLineTest {
    @RegisterExtension
    static final S3ProxyServer server = new S3ProxyServer();

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("aws.accessKeyId", S3ProxyServer.IDENTITY);
        System.setProperty("aws.secretAccessKey", S3ProxyServer.CREDENTIAL);
    }

    @AfterAll
    static void stop() throws Exception {
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
    }

    @Test
    void restoreLsVerify_onS3Url_work() throws Exception {
        String bucket = server.createBucket();
        try (S3Storage storage = server.storage(bucket).prefix("app/main").open();
             Primary primary = Primary.open(storage, dir.resolve("p.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            primary.write(conn -> exec(conn, "insert into t values (42)")).get();
        }
        String url = "s3://" + bucket + "/app/main";
        String[] s3 = {"--endpoint", server.endpoint().toString(), "--region", "us-east-1", "--path-style"};
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = WalshipCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true),
                concat(new String[] {"restore", url, "--to", dir.resolve("r.db").toString()}, s3));
        assertThat(code).as(err.toString()).isZero();
        assertThat(queryLong(dir.resolve("r.db"), "select sum(x) from t")).isEqualTo(42);
        assertThat(WalshipCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true),
                concat(new String[] {"verify", url}, s3))).isZero();
        assertThat(WalshipCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true),
                concat(new String[] {"ls", url}, s3))).isZero();
        assertThat(out.toString()).contains("txid=2").contains("ok").contains("2 log objects");
        assertThat(out.toString() + err).doesNotContain(S3ProxyServer.CREDENTIAL);
    }

    @Test
    void anyCommand_missingBucket_exitsFourWithKind() {
        StringWriter err = new StringWriter();
        int code = WalshipCommand.execute(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true),
                "ls", "s3://no-such-bucket/x", "--endpoint", server.endpoint().toString(), "--path-style");
        assertThat(code).as("the storage asked for does not exist").isEqualTo(4);
        assertThat(err.toString()).contains("kind=BUCKET_MISSING").doesNotContain(S3ProxyServer.CREDENTIAL);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
