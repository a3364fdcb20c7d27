package io.walship.example;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.SqlFunction;
import io.walship.replica.Replica;
import io.walship.replica.StaleReadException;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A small HTTP service that writes to a primary and reads from a replica, where a client reads its
 * own writes through a txid header (what PowerSync calls a write checkpoint):
 *
 * <ul>
 *   <li>{@code POST /notes} with the note as the body: the primary stores it, the answer is 201
 *       with header {@code Walship-Txid} (the stored txid).
 *   <li>{@code GET /notes}, optionally with the {@code Walship-Txid} a write returned: the replica
 *       answers once it holds that txid ({@link Replica#readAtLeast}), otherwise from a state at
 *       most a second behind storage ({@link Replica#read(Duration, io.walship.SqlFunction)}); the
 *       answer carries the txid it was read at. 503 with {@code Retry-After} when the replica
 *       cannot get there within 5 s.
 * </ul>
 *
 * Primary and replica share one process here to keep the example small; in a real deployment they
 * are separate services, the replica reading the storage the primary ships to (a directory here,
 * S3 in production). Run it, then try it with curl:
 *
 * <pre>
 * java -cp examples/target/walship-examples.jar io.walship.example.ReadYourWrites /tmp/notes-demo 8080
 * curl -si -X POST --data 'buy milk' localhost:8080/notes     # Walship-Txid: 2
 * curl -s -H 'Walship-Txid: 2' localhost:8080/notes           # buy milk
 * </pre>
 */
public final class ReadYourWrites implements AutoCloseable {
    /** The request and response header carrying a txid. */
    public static final String TXID_HEADER = "Walship-Txid";
    private static final Duration READ_YOUR_WRITE_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration MAX_STALENESS = Duration.ofSeconds(1);

    private final Primary primary;
    private final Replica replica;
    private final HttpServer server;
    private final ExecutorService threads;

    private ReadYourWrites(Primary primary, Replica replica, HttpServer server, ExecutorService threads) {
        this.primary = primary;
        this.replica = replica;
        this.server = server;
        this.threads = threads;
    }

    /**
     * Opens (or reopens) the primary {@code dir/notes.db} shipping to {@code dir/storage} and a
     * following replica {@code dir/replica.db}, and serves HTTP on {@code port} (0: any free port).
     */
    public static ReadYourWrites start(Path dir, int port) throws IOException, SQLException, InterruptedException {
        Files.createDirectories(dir);
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        Primary primary = Primary.open(storage, dir.resolve("notes.db"), PrimaryOptions.durable());
        Replica replica = null;
        try {
            primary.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.execute("create table if not exists note(id integer primary key, text text not null)");
                }
            }).get();
            replica = Replica.open(storage, dir.resolve("replica.db"));
            replica.follow();
            HttpServer server = HttpServer.create(new InetSocketAddress("localhost", port), 0);
            ExecutorService threads = Executors.newFixedThreadPool(4);
            server.setExecutor(threads);
            ReadYourWrites service = new ReadYourWrites(primary, replica, server, threads);
            server.createContext("/notes", service::handle);
            server.start();
            return service;
        } catch (IOException | SQLException | InterruptedException | RuntimeException e) {
            if (replica != null) {
                replica.close();
            }
            primary.close();
            throw e;
        }
    }

    /** The port the service listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            switch (exchange.getRequestMethod()) {
                case "POST":
                    post(exchange);
                    break;
                case "GET":
                    get(exchange);
                    break;
                default:
                    respond(exchange, 405, -1, "use GET or POST\n");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            respond(exchange, 503, -1, "shutting down\n");
        } catch (SQLException | RuntimeException e) {
            respond(exchange, 500, -1, "failed: " + e.getMessage() + "\n");
        }
    }

    private void post(HttpExchange exchange) throws IOException, SQLException, InterruptedException {
        String text;
        try (InputStream body = exchange.getRequestBody()) {
            text = new String(body.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
        if (text.isEmpty()) {
            respond(exchange, 400, -1, "the note is the request body, and it is empty\n");
            return;
        }
        long txid = primary.write(conn -> {
            try (PreparedStatement ps = conn.prepareStatement("insert into note(text) values (?)")) {
                ps.setString(1, text);
                ps.executeUpdate();
            }
        }).get(); // stored: any replica of this storage can reach it
        respond(exchange, 201, txid, "stored at txid " + txid + "\n");
    }

    private void get(HttpExchange exchange) throws IOException, SQLException {
        String header = exchange.getRequestHeaders().getFirst(TXID_HEADER);
        long[] readAt = new long[1];
        SqlFunction<String> notes = conn -> {
            readAt[0] = replica.txid(); // stable while the work runs: batches wait for reads
            StringBuilder out = new StringBuilder();
            try (Statement s = conn.createStatement();
                 ResultSet rs = s.executeQuery("select text from note order by id")) {
                while (rs.next()) {
                    out.append(rs.getString(1)).append('\n');
                }
            }
            return out.toString();
        };
        String body;
        try {
            if (header == null) {
                body = replica.read(MAX_STALENESS, notes);
            } else {
                long txid;
                try {
                    txid = Long.parseLong(header.strip());
                } catch (NumberFormatException e) {
                    respond(exchange, 400, -1, TXID_HEADER + " must be a txid, got '" + header + "'\n");
                    return;
                }
                body = replica.readAtLeast(txid, READ_YOUR_WRITE_TIMEOUT, notes);
            }
        } catch (StaleReadException e) {
            exchange.getResponseHeaders().set("Retry-After", "1");
            respond(exchange, 503, replica.txid(), e.getMessage() + "\n");
            return;
        }
        respond(exchange, 200, readAt[0], body);
    }

    private static void respond(HttpExchange exchange, int status, long txid, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        if (txid >= 0) {
            exchange.getResponseHeaders().set(TXID_HEADER, Long.toString(txid));
        }
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** Stops serving, then closes the replica and the primary (which stores what is pending). */
    @Override
    public void close() {
        server.stop(0);
        threads.shutdown();
        replica.close();
        primary.close();
    }

    /** {@code ReadYourWrites <directory> [port]}: serves until interrupted (Ctrl-C). */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "notes-demo");
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 8080;
        ReadYourWrites service = start(dir, port);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            stopped.countDown();
        }));
        System.out.println("serving http://localhost:" + service.port() + "/notes from " + dir.toAbsolutePath());
        stopped.await();
    }
}
