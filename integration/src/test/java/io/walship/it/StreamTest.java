package io.walship.it;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.BadObjectException;
import io.walship.FencedException;
import io.walship.NotStoredException;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.SqlFunction;
import io.walship.StreamServer;
import io.walship.internal.log.FormatLayout;
import io.walship.internal.log.LogLookup;
import io.walship.internal.log.SegmentWriter;
import io.walship.internal.log.StreamFrames;
import io.walship.replica.Replica;
import io.walship.replica.ReplicaOptions;
import io.walship.storage.ForwardingStorage;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.Await;
import io.walship.testing.Rows;
import io.walship.testing.Worker;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica fed by its primary's live stream: as exact as from storage, and back to storage whenever the stream fails.
 */
class StreamTest {
    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final String TOKEN = "s3cret-token";
    /** 1 while the sum of balances is 1000 and the counter equals the rows logged. */
    private static final SqlFunction<Long> INVARIANT = conn -> queryLong(conn,
            "select (select sum(balance) from account) = 1000 and (select n from meta) = (select count(*) from moves)");
    private static final SqlFunction<String> FINGERPRINT = Rows::fingerprint;

    @TempDir
    Path dir;
    private Storage storage;
    /** The replica's view of storage: no change notifications, GETs counted. */
    private Storage blind;
    private final AtomicLong replicaGets = new AtomicLong();

    @BeforeEach
    void storage() throws Exception {
        storage = FileSystemStorage.open(dir.resolve("storage"));
        blind = new ForwardingStorage(storage) {
            @Override
            public Optional<Closeable> watch(String prefix, Runnable onChange) {
                return Optional.empty();
            }

            @Override
            public Optional<InputStream> open(String key) {
                replicaGets.incrementAndGet();
                return super.open(key);
            }
        };
    }

    private static long setUp(Primary primary) throws Exception {
        return primary.write(conn -> {
            exec(conn, "create table account(id integer primary key, balance integer)");
            exec(conn, "create table meta(n integer)");
            exec(conn, "create table moves(id integer primary key, amount integer, pad)");
            exec(conn, "insert into account values (1, 600), (2, 400)");
            exec(conn, "insert into meta values (0)");
        }).get();
    }

    private static long move(Primary primary, int i) throws Exception {
        int amount = i % 7 - 3;
        return primary.write(conn -> {
            exec(conn, "update account set balance = balance - " + amount + " where id = 1");
            exec(conn, "insert into moves(amount, pad) values (" + amount + ", randomblob(" + (i % 4) * 700 + "))");
            exec(conn, "update account set balance = balance + " + amount + " where id = 2");
            exec(conn, "update meta set n = n + 1");
        }).get();
    }

    /** Polling every ten minutes: only the stream can bring each write within seconds. */
    private static ReplicaOptions pushed(URI uri, String token) {
        return ReplicaOptions.builder().pollInterval(Duration.ofMinutes(10)).maxErrorBackoff(Duration.ofMinutes(10))
                .stream(uri, token).build();
    }

    @Test
    void overTls_aReplicaTrustingTheServerFollows_andOnesWithoutTrustOrCertificateAreRefused() throws Exception {
        io.walship.testing.TlsFiles tls = new io.walship.testing.TlsFiles(dir);
        javax.net.ssl.SSLContext server = io.walship.testing.TlsFiles.context(tls.keyStore("primary"),
                tls.trustStore("primary", "replica"));
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable());
             StreamServer stream = primary.serveStream(new InetSocketAddress("localhost", 0), TOKEN, server, true)) {
            assertThat(stream.uri().getScheme()).isEqualTo("walships");
            setUp(primary);
            javax.net.ssl.SSLContext trusting = io.walship.testing.TlsFiles.context(tls.keyStore("replica"),
                    tls.trustStore("replica", "primary"));
            try (Replica replica = Replica.open(blind, dir.resolve("replica.db"), ReplicaOptions.builder()
                    .pollInterval(Duration.ofMinutes(10)).maxErrorBackoff(Duration.ofMinutes(10))
                    .stream(stream.uri(), TOKEN).streamTls(trusting).build())) {
                replica.follow();
                for (int i = 1; i <= 20; i++) {
                    long txid = move(primary, i);
                    assertThat(replica.awaitTxid(txid, Duration.ofSeconds(10))).as("txid %d pushed over TLS", txid)
                            .isTrue();
                }
                assertThat(replica.read(FINGERPRINT)).isEqualTo(primary.read(FINGERPRINT));
            }
            // a replica that does not trust the primary's certificate, and one without a certificate of its own
            for (javax.net.ssl.SSLContext wrong : new javax.net.ssl.SSLContext[] {
                io.walship.testing.TlsFiles.context(tls.keyStore("replica"), null),
                io.walship.testing.TlsFiles.context(null, tls.trustStore("anonymous", "primary"))}) {
                try (Replica replica = Replica.open(blind, dir.resolve("refused.db"), ReplicaOptions.builder()
                        .pollInterval(Duration.ofMinutes(10)).maxErrorBackoff(Duration.ofMinutes(10))
                        .stream(stream.uri(), TOKEN).streamTls(wrong).build())) {
                    replica.follow();
                    move(primary, 99);
                    io.walship.testing.Await.until("the TLS handshake refused", BOUND, () -> replica.status()
                            .streamError().map(p -> p.message().toLowerCase(java.util.Locale.ROOT))
                            .filter(m -> m.contains("certificate") || m.contains("handshake") || m.contains("pkix")
                                    || m.contains("ssl") || m.contains("tls")).isPresent());
                    Thread.sleep(500);
                    assertThat(replica.status().streamError()).as("still not connected").isPresent();
                }
                java.nio.file.Files.deleteIfExists(dir.resolve("refused.db"));
            }
        }
    }

    @Test
    void pushedReplica_seesEachStoredWriteWithinSeconds_wholeTransactionsOnly_equalToThePrimary() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable());
             StreamServer stream = primary.serveStream(new InetSocketAddress("localhost", 0), TOKEN)) {
            setUp(primary);
            try (Replica replica = Replica.open(blind, dir.resolve("replica.db"), pushed(stream.uri(), TOKEN))) {
                replica.follow();
                AtomicBoolean writing = new AtomicBoolean(true);
                Worker reader = Worker.start("reader", () -> {
                    while (writing.get()) {
                        assertThat(replica.read(INVARIANT)).isEqualTo(1);
                    }
                });
                long getsBefore = replicaGets.get();
                try {
                    for (int i = 1; i <= 200; i++) {
                        long txid = move(primary, i);
                        assertThat(replica.awaitTxid(txid, Duration.ofSeconds(10))).as("txid %d pushed", txid)
                                .isTrue();
                    }
                } finally {
                    writing.set(false);
                }
                reader.join(BOUND);
                assertThat(replicaGets.get() - getsBefore).as("storage GETs while the stream was in sync")
                        .isLessThan(20);
                assertThat(replica.read(FINGERPRINT)).isEqualTo(primary.read(FINGERPRINT));
            }
        }
    }

    @Test
    void wrongToken_isRefusedWithAnEndFrame_andTheReplicaReadsStorageInstead() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable());
             StreamServer stream = primary.serveStream(new InetSocketAddress("localhost", 0), TOKEN)) {
            setUp(primary);
            for (String token : new String[] {"guess", ""}) {
                try (Socket client = new Socket("localhost", stream.address().getPort())) {
                    OutputStream out = client.getOutputStream();
                    StreamFrames.writeHello(out, 1, token);
                    out.flush();
                    InputStream in = client.getInputStream();
                    StreamFrames.Frame answer = StreamFrames.read(in, "test").orElseThrow();
                    assertThat(answer.kind()).isEqualTo(FormatLayout.STREAM_KIND_END);
                    assertThat(new String(answer.payload(), StandardCharsets.UTF_8))
                            .isEqualTo("wrong or missing token");
                    assertThat(StreamFrames.read(in, "test")).as("then closed").isEmpty();
                }
            }
            try (Replica replica = Replica.open(blind, dir.resolve("replica.db"), ReplicaOptions.builder()
                    .pollInterval(Duration.ofMillis(50)).stream(stream.uri(), "guess").build())) {
                replica.follow();
                long txid = move(primary, 1);
                assertThat(replica.awaitTxid(txid, BOUND)).as("from storage").isTrue();
            }
        }
    }

    /**
     * A stream server that sends a segment whose bytes were damaged in transit (header CRC intact):
     * the replica applies nothing of it and reads storage as before.
     */
    @Test
    void damagedStreamBytes_areRejected_nothingApplied_storageStillFollowed() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            long start = setUp(primary);
            byte[] segment = onePageSegment(0, start + 1, 1);
            segment[segment.length / 2] ^= 0x40;
            ByteArrayOutputStream frames = new ByteArrayOutputStream();
            StreamFrames.write(frames, FormatLayout.STREAM_KIND_SEGMENT, Long.MAX_VALUE, segment);
            ByteArrayOutputStream stored = new ByteArrayOutputStream();
            StreamFrames.write(stored, FormatLayout.STREAM_KIND_STORED, Long.MAX_VALUE, new byte[0]);
            byte[] damagedHeader = stored.toByteArray();
            damagedHeader[7] ^= 1;
            frames.write(damagedHeader);
            FakeStream fake = new FakeStream(frames.toByteArray());
            try (Replica replica = Replica.open(blind, dir.resolve("replica.db"), ReplicaOptions.builder()
                    .pollInterval(Duration.ofMillis(200)).stream(fake.uri(), TOKEN).build())) {
                assertThat(replica.txid()).isEqualTo(start);
                replica.follow();
                Await.until("the fake stream was read", BOUND, () -> fake.served() >= 2);
                assertThat(replica.txid()).as("nothing of the damaged segment applied").isEqualTo(start);
                long txid = move(primary, 1);
                assertThat(replica.awaitTxid(txid, BOUND)).as("storage still followed").isTrue();
                assertThat(replica.read(FINGERPRINT)).isEqualTo(primary.read(FINGERPRINT));
            } finally {
                fake.close();
            }
        }
    }

    /**
     * A pushed segment whose bytes are whole (its checksum holds) but whose content is impossible: a
     * page beyond the database's size. The feed checks header and checksum on arrival and leaves the
     * decoding to the apply, which checks every transaction before it writes: nothing of it is
     * applied, the error is the replica's, and storage is still followed.
     */
    @Test
    void wholeButImpossiblePushedSegment_isRefusedByTheApply_nothingWritten_storageStillFollowed()
            throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            long start = setUp(primary);
            long checksumAtStart = LogLookup.latestPosition(storage).orElseThrow().checksum();
            byte[] segment = onePageSegment(checksumAtStart, start + 1, 2); // page 2 of a database of 1 page
            ByteArrayOutputStream frames = new ByteArrayOutputStream();
            StreamFrames.write(frames, FormatLayout.STREAM_KIND_SEGMENT, Long.MAX_VALUE, segment);
            StreamFrames.write(frames, FormatLayout.STREAM_KIND_STORED, Long.MAX_VALUE, new byte[0]);
            FakeStream fake = new FakeStream(frames.toByteArray());
            try (Replica replica = Replica.open(blind, dir.resolve("replica.db"), ReplicaOptions.builder()
                    .pollInterval(Duration.ofMillis(200)).stream(fake.uri(), TOKEN).build())) {
                replica.follow();
                Await.until("the apply refused the pushed segment", BOUND, () -> replica.lastError()
                        .filter(e -> e instanceof BadObjectException bad
                                && bad.kind() == BadObjectException.Kind.CORRUPT).isPresent());
                assertThat(replica.txid()).as("nothing of the impossible segment applied").isEqualTo(start);
                long txid = move(primary, 1);
                assertThat(replica.awaitTxid(txid, BOUND)).as("storage still followed").isTrue();
                assertThat(replica.read(FINGERPRINT)).isEqualTo(primary.read(FINGERPRINT));
            } finally {
                fake.close();
            }
        }
    }

    /** A segment of one transaction, {@code txid}, writing one zeroed page {@code pgno} of a 1-page database. */
    private static byte[] onePageSegment(long checksumBefore, long txid, int pgno) throws IOException {
        SegmentWriter writer = new SegmentWriter(4096, checksumBefore);
        writer.begin(txid, 0, 1, 1);
        writer.page(pgno, new byte[4096], 0);
        writer.end(0);
        return writer.seal().bytes().orElseThrow();
    }

    /**
     * A stream server that answers every replica's hello with the same frames, then holds the
     * connection until the replica hangs up; counts the connections it served.
     */
    private static final class FakeStream implements Closeable {
        private final ServerSocket socket = new ServerSocket(0);
        private final AtomicLong served = new AtomicLong();

        FakeStream(byte[] frames) throws IOException {
            Thread server = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (Socket client = socket.accept()) {
                        StreamFrames.readHello(client.getInputStream(), "test");
                        served.incrementAndGet();
                        OutputStream out = client.getOutputStream();
                        out.write(frames);
                        out.flush();
                        client.getInputStream().read(); // until the replica hangs up
                    } catch (IOException e) {
                        // closed at the end of the test, or the replica hung up
                    }
                }
            });
            server.setDaemon(true);
            server.start();
        }

        URI uri() {
            return URI.create("walship://localhost:" + socket.getLocalPort());
        }

        long served() {
            return served.get();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void primaryRestart_midStream_replicaFallsBackToStorage_thenFollowsTheNewStream_noGapNoWrongRow()
            throws Exception {
        int port;
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable());
             StreamServer stream = primary.serveStream(new InetSocketAddress("localhost", 0), TOKEN)) {
            setUp(primary);
            port = stream.address().getPort();
        }
        URI uri = URI.create("walship://localhost:" + port);
        try (Replica replica = Replica.open(blind, dir.resolve("replica.db"), ReplicaOptions.builder()
                .pollInterval(Duration.ofMillis(100)).stream(uri, TOKEN).build())) {
            replica.follow();
            for (int round = 0; round < 3; round++) {
                try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable());
                     StreamServer stream = primary.serveStream(new InetSocketAddress("localhost", port), TOKEN)) {
                    long txid = 0;
                    for (int i = 1; i <= 30; i++) {
                        txid = move(primary, i);
                    }
                    assertThat(replica.awaitTxid(txid, BOUND)).isTrue();
                    assertThat(replica.read(INVARIANT)).isEqualTo(1);
                    assertThat(replica.read(FINGERPRINT)).isEqualTo(primary.read(FINGERPRINT));
                }
            }
        }
    }

    /**
     * Two primaries on one storage race while a replica follows the first one's stream: whichever
     * is fenced, the replica never shows a row of the loser and ends equal to the winner.
     */
    @Test
    void fencingMidStream_replicaNeverShowsTheLoser_andFollowsTheWinnerThroughStorage() throws Exception {
        for (int round = 0; round < 6; round++) {
            Path storageDir = dir.resolve("race-" + round);
            Path a = dir.resolve("a" + round + ".db");
            try (Primary seed = Primary.open(FileSystemStorage.open(storageDir), a, PrimaryOptions.durable())) {
                seed.write(conn -> exec(conn, "create table t(who text, n int)")).get();
            }
            Primary first = Primary.open(FileSystemStorage.open(storageDir), a, PrimaryOptions.durable());
            Primary second = Primary.open(FileSystemStorage.open(storageDir), dir.resolve("b" + round + ".db"),
                    PrimaryOptions.durable());
            StreamServer stream = first.serveStream(new InetSocketAddress("localhost", 0), TOKEN);
            Set<String> seen = ConcurrentHashMap.newKeySet();
            try (Replica replica = Replica.open(FileSystemStorage.open(storageDir), dir.resolve("r" + round + ".db"),
                    ReplicaOptions.builder().pollInterval(Duration.ofMillis(20)).stream(stream.uri(), TOKEN).build())) {
                replica.follow();
                AtomicBoolean racing = new AtomicBoolean(true);
                Worker watcher = Worker.start("watcher", () -> {
                    while (racing.get()) {
                        seen.addAll(replica.read(conn -> {
                            Set<String> who = new HashSet<>();
                            try (Statement st = conn.createStatement();
                                 ResultSet rs = st.executeQuery("select distinct who from t")) {
                                while (rs.next()) {
                                    who.add(rs.getString(1));
                                }
                            }
                            return who;
                        }));
                    }
                });
                List<Primary> primaries = List.of(first, second);
                List<Worker> writers = new ArrayList<>();
                List<AtomicLong> stored = List.of(new AtomicLong(), new AtomicLong());
                for (int w = 0; w < 2; w++) {
                    int who = w;
                    writers.add(Worker.start("writer-" + who, () -> {
                        try {
                            for (int n = 0; n < 30; n++) {
                                int value = n;
                                primaries.get(who).write(conn -> exec(conn, "insert into t values ('" + who + "', "
                                        + value + ")")).get();
                                stored.get(who).incrementAndGet();
                            }
                        } catch (FencedException | NotStoredException e) {
                            // the loser
                        }
                    }));
                }
                for (Worker writer : writers) {
                    writer.join(BOUND);
                }
                int winner = stored.get(0).get() == 30 ? 0 : 1;
                assertThat(stored.get(1 - winner).get()).as("the loser stored nothing").isZero();
                Primary won = primaries.get(winner);
                assertThat(replica.awaitTxid(won.txid(), BOUND)).as("round %d: follows the winner %d", round, winner)
                        .isTrue();
                racing.set(false);
                watcher.join(BOUND);
                assertThat(seen).as("round %d", round).doesNotContain(String.valueOf(1 - winner));
                assertThat(replica.read(FINGERPRINT)).isEqualTo(won.read(FINGERPRINT));
            } finally {
                stream.close();
                first.close();
                second.close();
            }
        }
    }
}
