package io.walship;

import io.walship.internal.log.Compression;
import io.walship.internal.log.FormatLayout;
import io.walship.internal.log.SealedSegment;
import io.walship.internal.log.SegmentSpill;
import io.walship.internal.log.SegmentWriter;
import io.walship.internal.log.StreamFrames;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A primary's live stream over TCP, for replicas in other processes ({@link Primary#serveStream}):
 * a client sends a hello with the first txid it wants and the token, and receives every
 * transaction from there on as frames (docs/FORMAT.md, "Stream hello" and "Stream frame") for as
 * long as it reads. Close it to stop serving; the primary's close closes it too.
 */
public final class StreamServer implements AutoCloseable {
    /*
     * Each connection is a subscription (Primary.subscribe) on the connection's own thread: its
     * subscriber encodes each transaction as a one-transaction segment (compressed, checksummed:
     * the stored format, so the replica checks and applies it like a segment from storage) and
     * queues it; the connection thread writes what is queued, flushing when the queue is empty, and
     * a stored frame whenever the stored txid moved and at least every second (a heartbeat). A
     * client that does not read fills the queue to MAX_QUEUED_BYTES and is cut off: it never holds
     * memory beyond that, nor slows the primary. Why plain TCP and not HTTP: on this loopback one
     * 1.2 KB frame a millisecond took p50 152 µs / p99 1.9 ms through the JDK's HTTP server and
     * client (and 17 ms / 42 ms without TCP_NODELAY, which the JDK server sets only by a global
     * property), against 27 µs / 72 µs on a socket (ADR 0016).
     */
    private static final Logger log = LoggerFactory.getLogger(StreamServer.class);
    private static final long MAX_QUEUED_BYTES = 16L << 20;
    private static final long HEARTBEAT_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int HELLO_TIMEOUT_MILLIS = 10_000;

    private final StreamSource source;
    private final String db;
    private final byte[] token;
    private final int pageSize;
    private final ServerSocket socket;
    private final ExecutorService threads;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    /** Connections whose subscription is in place: every transaction committed from now on reaches them. */
    private final AtomicInteger subscribed = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    /** Wakes each connection when the stored txid moves, so the stored frame goes out at once. */
    private final Runnable storedMoved = () -> connections.forEach(Connection::wake);
    private volatile boolean closed;

    /** Whether connections are TLS (the URI then says {@code walships://}). */
    private final boolean tls;

    /**
     * @param tls                       null: plain TCP (an explicit choice); else the server's TLS context
     * @param requireClientCertificates with TLS: refuse clients without a certificate the context trusts
     */
    StreamServer(StreamSource source, InetSocketAddress address, String token, javax.net.ssl.SSLContext tls,
                 boolean requireClientCertificates) throws IOException {
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("a stream needs a token: anyone who can reach the port reads every"
                    + " row otherwise");
        }
        this.source = source;
        this.db = source.db();
        this.pageSize = source.pageSize();
        this.token = token.getBytes(StandardCharsets.UTF_8);
        AtomicInteger number = new AtomicInteger();
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "walship-stream-" + db + "-" + number.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.tls = tls != null;
        if (tls == null) {
            this.socket = new ServerSocket();
        } else {
            javax.net.ssl.SSLServerSocket secure = (javax.net.ssl.SSLServerSocket)
                    tls.getServerSocketFactory().createServerSocket();
            secure.setNeedClientAuth(requireClientCertificates);
            this.socket = secure;
        }
        try {
            socket.setReuseAddress(true);
            socket.bind(address);
        } catch (IOException e) {
            socket.close();
            threads.shutdown();
            throw e;
        }
        source.onStored(storedMoved);
        threads.execute(this::accept);
        if (tls == null && !address().getAddress().isLoopbackAddress()) {
            log.warn("stream serving in plaintext beyond this host db={} address={} (pages cross the network in the"
                    + " clear: serve it with TLS)", db, address());
        }
        log.info("stream serving db={} address={} tls={} clientCertificates={}", db, address(), this.tls,
                tls != null && requireClientCertificates);
    }

    /**
     * A TLS context from PKCS12 files, for {@link Primary#serveStream(InetSocketAddress, String,
     * javax.net.ssl.SSLContext, boolean)} and {@code ReplicaOptions.streamTls}: {@code keyStore}
     * holds this side's key and certificate (null: none, a replica the primary does not ask for
     * one), {@code trustStore} the certificates it trusts (null: the JVM's default trust store).
     *
     * @throws IOException a file cannot be read, or {@code password} does not open it
     */
    public static javax.net.ssl.SSLContext tls(java.nio.file.Path keyStore, java.nio.file.Path trustStore,
                                               char[] password) throws IOException {
        try {
            javax.net.ssl.KeyManager[] keys = null;
            if (keyStore != null) {
                javax.net.ssl.KeyManagerFactory factory = javax.net.ssl.KeyManagerFactory.getInstance(
                        javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
                factory.init(pkcs12(keyStore, password), password);
                keys = factory.getKeyManagers();
            }
            javax.net.ssl.TrustManager[] trust = null;
            if (trustStore != null) {
                javax.net.ssl.TrustManagerFactory factory = javax.net.ssl.TrustManagerFactory.getInstance(
                        javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
                factory.init(pkcs12(trustStore, password));
                trust = factory.getTrustManagers();
            }
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(keys, trust, null);
            return context;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot build a TLS context from " + keyStore + " and " + trustStore + ": " + e, e);
        }
    }

    private static java.security.KeyStore pkcs12(java.nio.file.Path file, char[] password)
            throws IOException, java.security.GeneralSecurityException {
        java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
            store.load(in, password);
        }
        return store;
    }

    /** Where it listens (with the port chosen, when asked for port 0). */
    public InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /**
     * The stream's URI on this host, to give {@code ReplicaOptions.stream}: {@code walships://host:port}
     * with TLS, {@code walship://host:port} without.
     */
    public URI uri() {
        InetSocketAddress a = address();
        return URI.create((tls ? "walships://" : "walship://") + a.getHostString() + ":" + a.getPort());
    }

    /**
     * Clients served now (token accepted, subscribed): each is sent every transaction committed
     * from here on, stored or not. A replica connected to nothing here reads storage instead.
     */
    public int clients() {
        return subscribed.get();
    }

    /** Stops serving: open connections get an end frame and close. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        source.removeOnStored(storedMoved);
        try {
            socket.close();
        } catch (IOException e) {
            log.debug("stream socket not closed db={} error={}", db, e.toString());
        }
        connections.forEach(Connection::stop);
        threads.shutdown();
        log.info("stream closed db={}", db);
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = socket.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("stream accept failed db={} error={}", db, e.toString());
                }
                return;
            }
            try {
                threads.execute(() -> serve(client));
            } catch (RuntimeException e) { // closing: the pool takes no more
                closeQuietly(client);
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            client.setTcpNoDelay(true);
            client.setSoTimeout(HELLO_TIMEOUT_MILLIS);
            OutputStream out = new BufferedOutputStream(client.getOutputStream(), 64 << 10);
            StreamFrames.Hello hello;
            try {
                hello = StreamFrames.readHello(new BufferedInputStream(client.getInputStream()),
                        String.valueOf(client.getRemoteSocketAddress()));
            } catch (IOException | WalshipException e) {
                log.debug("stream hello unreadable db={} from={} error={}", db, client.getRemoteSocketAddress(),
                        e.toString());
                return;
            }
            client.setSoTimeout(0);
            String refusal = refusal(hello);
            if (refusal != null) {
                if (refused.getAndIncrement() % 100 == 0) {
                    log.warn("stream refused db={} from={} reason={} refused={}", db, client.getRemoteSocketAddress(),
                            refusal, refused.get());
                }
                end(out, refusal);
                return;
            }
            Connection connection = new Connection(out, hello.from());
            connections.add(connection);
            try {
                connection.run();
            } finally {
                connections.remove(connection);
            }
        } catch (IOException e) {
            log.debug("stream client gone db={} error={}", db, e.toString());
        }
    }

    /** Why the hello is refused, or null. */
    private String refusal(StreamFrames.Hello hello) {
        if (!MessageDigest.isEqual(token, hello.token().getBytes(StandardCharsets.UTF_8))) {
            return "wrong or missing token";
        }
        if (hello.version() != FormatLayout.STREAM_VERSION) {
            return "unsupported stream version " + hello.version() + " (this primary speaks "
                    + FormatLayout.STREAM_VERSION + ")";
        }
        if (hello.from() < 1) {
            return "from must be 1 or more: " + hello.from();
        }
        return null;
    }

    private void end(OutputStream out, String reason) {
        try {
            StreamFrames.write(out, FormatLayout.STREAM_KIND_END, source.storedTxid(),
                    reason.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            log.debug("stream end not sent db={} error={}", db, e.toString());
        }
    }

    private static void closeQuietly(Socket client) {
        try {
            client.close();
        } catch (IOException e) {
            log.debug("stream client not closed error={}", e.toString());
        }
    }

    /** One client: a subscription filling a queue, and this thread writing it. */
    private final class Connection implements TransactionSubscriber {
        private final OutputStream out;
        private final long from;
        private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
        private long queuedBytes;
        private String end;

        Connection(OutputStream out, long from) {
            this.out = out;
            this.from = from;
        }

        @Override
        public void onTransaction(StreamedTransaction txn) throws IOException {
            if ((long) txn.pageCount() * pageSize > MAX_QUEUED_BYTES / 2) {
                throw new IOException("txid " + txn.txid() + " (" + txn.pageCount() + " pages) is too large for the"
                        + " stream: read it from storage");
            }
            SegmentWriter segment = new SegmentWriter(pageSize, txn.checksumBefore(), SegmentSpill.memoryOnly(),
                    Compression.FAST);
            byte[] bytes;
            try {
                segment.begin(txn.txid(), txn.commitTime().toEpochMilli(), txn.databasePages(), txn.pageCount());
                segment.end(txn.readPages((pgno, image) -> segment.page(pgno, image, image.position())));
            } catch (IOException | RuntimeException e) {
                segment.discard(); // gives its scratch buffers back
                throw e;
            }
            try (SealedSegment sealed = segment.seal()) {
                bytes = sealed.bytes().orElseThrow();
            }
            synchronized (this) {
                if (queuedBytes + bytes.length > MAX_QUEUED_BYTES) {
                    throw new IllegalStateException("the client reads slower than the primary writes: "
                            + queuedBytes + " bytes queued");
                }
                queue.add(bytes);
                queuedBytes += bytes.length;
                notifyAll();
            }
        }

        @Override
        public synchronized void onEnd(SubscriptionEndedException e) {
            end = e.reason() + " nextTxid=" + e.nextTxid();
            notifyAll();
        }

        synchronized void wake() {
            notifyAll();
        }

        synchronized void stop() {
            if (end == null) {
                end = "server closed";
            }
            notifyAll();
        }

        void run() {
            Subscription subscription;
            try {
                subscription = source.subscribe(from, this);
            } catch (RuntimeException e) {
                end(out, "cannot subscribe: " + e.getMessage());
                return;
            }
            subscribed.incrementAndGet();
            long sentStored = -1;
            long lastWrite = System.nanoTime();
            try {
                while (true) {
                    byte[] next;
                    String ending;
                    synchronized (this) {
                        long deadline = lastWrite + HEARTBEAT_NANOS;
                        while (queue.isEmpty() && end == null && source.storedTxid() == sentStored
                                && System.nanoTime() - deadline < 0) {
                            TimeUnit.NANOSECONDS.timedWait(this, deadline - System.nanoTime());
                        }
                        next = queue.poll();
                        if (next != null) {
                            queuedBytes -= next.length;
                        }
                        ending = queue.isEmpty() ? end : null;
                    }
                    long stored = source.storedTxid();
                    if (next != null) {
                        StreamFrames.write(out, FormatLayout.STREAM_KIND_SEGMENT, stored, next);
                    } else if (ending == null) {
                        StreamFrames.write(out, FormatLayout.STREAM_KIND_STORED, stored, new byte[0]);
                    }
                    sentStored = stored;
                    lastWrite = System.nanoTime();
                    if (ending != null) {
                        end(out, ending);
                        return;
                    }
                    boolean drained;
                    synchronized (this) {
                        drained = queue.isEmpty();
                    }
                    if (drained) {
                        out.flush(); // outside the monitor: a client that stops reading blocks only this thread
                    }
                }
            } catch (IOException e) {
                log.debug("stream client gone db={} error={}", db, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                subscribed.decrementAndGet();
                subscription.close();
            }
        }
    }
}
