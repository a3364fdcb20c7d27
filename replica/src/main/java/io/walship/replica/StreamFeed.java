package io.walship.replica;

import io.walship.internal.log.FetchedSegment;
import io.walship.internal.log.FormatLayout;
import io.walship.internal.log.SegmentReader;
import io.walship.internal.log.StreamFrames;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replica's connection to its primary's live stream: receives segments, checks each whole, and
 * holds them until the replica applies them. Storage stays the record: whatever this lacks, the
 * replica reads there. Thread-safe; one thread of its own.
 */
final class StreamFeed implements AutoCloseable {
    /*
     * The feed connects from the replica's next txid and keeps what arrives in order: a segment
     * that does not start where the previous one ended, or that fails its check (trailer,
     * structure: the whole segment is decoded once on arrival), drops the connection and
     * everything held from it, and the feed connects again from the replica's txid. A primary
     * silent for READ_TIMEOUT (it sends a frame every second) counts as gone. A segment is
     * handed over only once the stored txid the primary sent covers it, so a replica never shows
     * a transaction a crash of the primary could take back. "In sync" (connected, a frame within
     * the last HEARTBEAT_GRACE, nothing held beyond the next txid) tells the replica that storage
     * holds nothing it lacks beyond what the feed holds: it then skips asking storage. A refused
     * token is logged and retried at the longest backoff: an operator has to fix it. With
     * applyUnstored the replica may take a segment before it is stored; each connection has a
     * number, and the stored txid a connection reports confirms only what that same connection
     * delivered (another primary's "stored" speaks of its own history).
     *
     * Failure is never silent: each way of failing (refused connection, wrong token, a primary
     * gone silent, a damaged frame) is logged once at WARN with its cause, again only when the
     * cause changes, and once at INFO when the stream connects again; failure() says since when
     * the stream has not been delivering and why, so that a process can give up on a stream that
     * can never work (walship follow --stream-timeout).
     */
    private static final Logger log = LoggerFactory.getLogger(StreamFeed.class);
    private static final long HEARTBEAT_GRACE_NANOS = TimeUnit.SECONDS.toNanos(3);
    private static final long MAX_HELD_BYTES = 64L << 20;
    private static final long MIN_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 5_000;
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;
    private static final int READ_TIMEOUT_MILLIS = 3_000;

    private final String db;
    private final URI uri;
    private final String token;
    /** A walships:// stream's TLS context; null: the JVM's default. */
    private final javax.net.ssl.SSLContext tls;
    private final LongSupplier appliedTxid;
    private final Runnable arrived;
    private final Thread thread;
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private long heldBytes;
    private long storedTxid = -1;
    private boolean connected;
    /** Numbers connections, so that a stored txid is only believed for what its own connection sent. */
    private long connection;
    private long lastFrameNanos;
    private volatile boolean closed;
    private volatile Socket socket;
    /** The last connection failure logged, so a primary that stays down is logged once. */
    private String lastError;
    /** Since when the stream has not been connected (System.nanoTime()), or 0 while it is. Guarded by this. */
    private long failingSinceNanos;
    /** Why, while it is not: the last failure. Guarded by this. */
    private Exception failure;

    private record Held(FetchedSegment segment, long firstTxid, long lastTxid, long bytes) {
    }

    /**
     * A segment handed to the replica: which connection sent it, and whether the primary had
     * stored all of it when it was handed over.
     */
    record Taken(FetchedSegment segment, long connection, boolean stored) {
    }

    /**
     * @param tls         a walships:// stream's TLS context (null: the JVM's default)
     * @param appliedTxid the replica's txid: the feed connects from the one after it
     * @param arrived     called when something the replica may apply arrived
     */
    StreamFeed(String db, URI uri, String token, javax.net.ssl.SSLContext tls, LongSupplier appliedTxid,
               Runnable arrived) {
        this.tls = tls;
        this.db = db;
        this.uri = uri;
        this.token = token;
        this.appliedTxid = appliedTxid;
        this.arrived = arrived;
        this.thread = new Thread(this::run, "walship-stream-" + db);
        thread.setDaemon(true);
    }

    void start() {
        synchronized (this) {
            failingSinceNanos = System.nanoTime();
            failure = new java.net.ConnectException("not connected yet to " + uri);
        }
        thread.start();
    }

    /**
     * Why the stream is not delivering and since when ({@code System.nanoTime()}), or empty while
     * it is connected.
     */
    synchronized Optional<Failure> failure() {
        return failingSinceNanos == 0 ? Optional.empty() : Optional.of(new Failure(failure, failingSinceNanos));
    }

    /** The stream has not been connected since {@code sinceNanos}; {@code cause} is its last failure. */
    record Failure(Exception cause, long sinceNanos) {
    }

    /**
     * The held segment starting at {@code txid}, once stored or, when {@code unstored}, at once;
     * segments before it are dropped. Empty when it has not arrived, is not stored yet (and
     * {@code unstored} is false), or the feed holds something else.
     */
    synchronized Optional<Taken> take(long txid, boolean unstored) {
        while (!held.isEmpty() && held.peekFirst().firstTxid() < txid) {
            Held stale = held.removeFirst(); // applied from storage meanwhile
            heldBytes -= stale.bytes();
            drop(stale);
        }
        Held first = held.peekFirst();
        boolean stored = first != null && first.lastTxid() <= storedTxid;
        if (first == null || first.firstTxid() != txid || !(stored || unstored)) {
            return Optional.empty();
        }
        held.removeFirst();
        heldBytes -= first.bytes();
        return Optional.of(new Taken(first.segment(), connection, stored));
    }

    /**
     * The txid up to which the primary says it stored its transactions, as reported on connection
     * {@code number} while that connection is still the live one; -1 once it is gone.
     */
    synchronized long storedOn(long number) {
        return connected && connection == number ? storedTxid : -1;
    }

    /** The live connection's number, or -1 while disconnected. */
    synchronized long connection() {
        return connected ? connection : -1;
    }

    /**
     * Drops the live connection, so that the feed connects again from the replica's txid: after
     * the replica went back (took back what storage did not confirm), what the old connection
     * sends does not follow on any more.
     */
    void reconnect() {
        Socket open = socket;
        if (open != null) {
            try {
                open.close();
            } catch (IOException e) {
                log.debug("stream socket not closed db={} error={}", db, e.toString());
            }
        }
    }

    /**
     * When the stream last vouched that the primary had nothing stored beyond {@code txid} but
     * what it holds (System.nanoTime()), or empty when it cannot say (down, silent, behind).
     */
    synchronized Optional<Long> inSyncAfter(long txid) {
        boolean fresh = connected && System.nanoTime() - lastFrameNanos < HEARTBEAT_GRACE_NANOS;
        Held first = held.peekFirst();
        boolean nothingMissing = storedTxid <= txid || (first != null && first.firstTxid() == txid + 1);
        return fresh && nothingMissing ? Optional.of(lastFrameNanos) : Optional.empty();
    }

    @Override
    public void close() {
        closed = true;
        reconnect(); // unblocks the read
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            held.forEach(this::drop);
            held.clear();
        }
    }

    /** A plain socket for walship://; for walships:// a TLS one that checks the server's host name. */
    private Socket newSocket() throws IOException {
        if (!"walships".equals(uri.getScheme())) {
            return new Socket();
        }
        javax.net.ssl.SSLContext context;
        try {
            context = tls != null ? tls : javax.net.ssl.SSLContext.getDefault();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IOException("no default TLS context in this JVM", e);
        }
        javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket();
        javax.net.ssl.SSLParameters parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host
        socket.setSSLParameters(parameters);
        return socket;
    }

    private void run() {
        long backoff = MIN_BACKOFF_MILLIS;
        while (!closed) {
            long from = appliedTxid.getAsLong() + 1;
            try (Socket socket = newSocket()) {
                socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), CONNECT_TIMEOUT_MILLIS);
                socket.setTcpNoDelay(true);
                if (socket instanceof javax.net.ssl.SSLSocket secure) {
                    secure.setSoTimeout(CONNECT_TIMEOUT_MILLIS);
                    secure.startHandshake(); // checks the server's certificate and host name, or throws
                }
                socket.setSoTimeout(READ_TIMEOUT_MILLIS); // the primary sends a frame at least every second
                this.socket = socket;
                OutputStream out = new BufferedOutputStream(socket.getOutputStream());
                StreamFrames.writeHello(out, from, token);
                out.flush();
                String ended = read(new BufferedInputStream(socket.getInputStream(), 64 << 10), from);
                boolean refused = ended.startsWith("wrong or missing token") || ended.startsWith("unsupported");
                failed(new IOException((refused ? "refused by the primary: " : "ended by the primary: ") + ended));
                backoff = refused ? MAX_BACKOFF_MILLIS : MIN_BACKOFF_MILLIS; // a refusal needs an operator
            } catch (IOException | RuntimeException e) {
                // RuntimeException too: nothing the network or a bad address does may end this thread unsaid
                failed(e);
            } finally {
                socket = null;
                disconnected();
            }
            if (!closed) {
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException e) {
                    return;
                }
                backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
            }
        }
    }

    /** Notes a failure: WARN once per way of failing, and failure() says it until the stream connects. */
    private void failed(Exception e) {
        if (closed) {
            return;
        }
        synchronized (this) {
            if (failingSinceNanos == 0) {
                failingSinceNanos = System.nanoTime();
            }
            failure = e;
        }
        if (!e.toString().equals(lastError)) { // once per kind of failure, not per retry
            log.warn("stream failed, the replica reads storage meanwhile and retries db={} uri={} error={}", db, uri,
                    e.toString());
        }
        lastError = e.toString();
    }

    /** Reads frames until the stream ends (the reason) or breaks (thrown). */
    private String read(InputStream in, long from) throws IOException {
        long expected = from;
        boolean announced = false;
        while (!closed) {
            Optional<StreamFrames.Frame> next = StreamFrames.read(in, uri.toString());
            if (next.isEmpty()) {
                return "closed by the primary";
            }
            StreamFrames.Frame frame = next.get();
            if (frame.kind() == FormatLayout.STREAM_KIND_END) {
                return new String(frame.payload(), StandardCharsets.UTF_8);
            }
            if (!announced) {
                log.info("stream connected db={} uri={} from={}", db, uri, from);
                lastError = null;
                announced = true;
                synchronized (this) {
                    failingSinceNanos = 0;
                    failure = null;
                }
            }
            if (frame.kind() == FormatLayout.STREAM_KIND_SEGMENT) {
                expected = hold(frame.payload(), expected);
            }
            synchronized (this) {
                if (!connected) {
                    connected = true;
                    connection++;
                    storedTxid = -1; // speaks for this connection's primary only
                }
                storedTxid = Math.max(storedTxid, frame.storedTxid());
                lastFrameNanos = System.nanoTime();
            }
            arrived.run();
        }
        return "closed";
    }

    /**
     * Checks a received segment (header, and the whole-object checksum over every byte) and holds
     * it; returns the txid the next one must start at. Its transactions are decoded once, by the
     * apply, which checks every one before it writes anything: decoding them here as well only
     * delayed each pushed transaction by a decode on the way in.
     */
    private long hold(byte[] payload, long expected) throws IOException {
        FetchedSegment segment = FetchedSegment.inMemory("stream:" + uri, payload);
        long first;
        long last;
        try (SegmentReader reader = segment.open()) {
            first = reader.firstTxid();
            last = reader.lastTxid();
        }
        if (first != expected) {
            throw new IOException("stream segment starts at txid " + first + ", expected " + expected);
        }
        synchronized (this) {
            if (heldBytes + payload.length > MAX_HELD_BYTES) {
                throw new IOException("the replica applies slower than the stream delivers: " + heldBytes
                        + " bytes held");
            }
            held.addLast(new Held(segment, first, last, payload.length));
            heldBytes += payload.length;
        }
        return last + 1;
    }

    private synchronized void disconnected() {
        connected = false;
        held.forEach(this::drop);
        held.clear();
        heldBytes = 0;
    }

    private void drop(Held h) {
        h.segment().close();
    }
}
