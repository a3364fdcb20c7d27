package io.walship.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example service end to end over HTTP: each write is read back through its txid header, from the replica. */
class ReadYourWritesTest {
    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void postThenGetWithTheTxidHeader_readsTheWriteFromTheReplica_everyTime() throws Exception {
        try (ReadYourWrites service = ReadYourWrites.start(dir, 0)) {
            URI notes = URI.create("http://localhost:" + service.port() + "/notes");
            StringBuilder expected = new StringBuilder();
            long previous = 0;
            for (int i = 1; i <= 20; i++) {
                String note = "note " + i;
                HttpResponse<String> posted = http.send(HttpRequest.newBuilder(notes)
                        .POST(HttpRequest.BodyPublishers.ofString(note)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(posted.statusCode()).isEqualTo(201);
                long txid = Long.parseLong(posted.headers().firstValue(ReadYourWrites.TXID_HEADER).orElseThrow());
                assertThat(txid).isGreaterThan(previous);
                previous = txid;
                expected.append(note).append('\n');

                HttpResponse<String> read = http.send(HttpRequest.newBuilder(notes)
                        .header(ReadYourWrites.TXID_HEADER, Long.toString(txid)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(read.statusCode()).isEqualTo(200);
                assertThat(read.body()).isEqualTo(expected.toString());
                assertThat(Long.parseLong(read.headers().firstValue(ReadYourWrites.TXID_HEADER).orElseThrow()))
                        .isGreaterThanOrEqualTo(txid);
            }
            HttpResponse<String> plain = http.send(HttpRequest.newBuilder(notes).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(plain.statusCode()).isEqualTo(200);
            assertThat(plain.body()).startsWith("note 1\n");
        }
    }

    @Test
    void getWithATxidNeverWritten_answers503WithRetryAfter_andBadInputAnswers400() throws Exception {
        try (ReadYourWrites service = ReadYourWrites.start(dir, 0)) {
            URI notes = URI.create("http://localhost:" + service.port() + "/notes");
            HttpResponse<String> ahead = http.send(HttpRequest.newBuilder(notes)
                    .header(ReadYourWrites.TXID_HEADER, "999999").GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ahead.statusCode()).isEqualTo(503);
            assertThat(ahead.headers().firstValue("Retry-After")).contains("1");
            assertThat(ahead.body()).contains("wanted=999999");
            assertThat(http.send(HttpRequest.newBuilder(notes).header(ReadYourWrites.TXID_HEADER, "soon").GET().build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(400);
            assertThat(http.send(HttpRequest.newBuilder(notes).POST(HttpRequest.BodyPublishers.ofString(" ")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(400);
        }
    }
}
