package io.walship.internal.encryption;

import io.walship.CorruptObjectException;
import io.walship.encryption.Encryption;
import io.walship.encryption.EncryptionException;
import io.walship.format.FormatLayout;
import io.walship.storage.ForwardingStorage;
import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A storage that encrypts every object put and decrypts every object read, in the envelope of
 * {@link Envelope}; what is stored is the bytes walship would store, sealed. Keys are the same;
 * listed sizes are the plaintext sizes. Thread-safe.
 */
public final class EncryptingStorage extends ForwardingStorage {
    /*
     * Everything that is put goes through an envelope: there is no path by which a primary
     * configured for encryption writes plaintext (Litestream #790). A plaintext object read here
     * is refused unless the encryption allows plaintext (a migration); an encrypted object read
     * without this wrapper is refused by the format readers (ObjectHeader), naming its key id.
     * A file put is sealed into a file beside it first (sealedFile), so objects of any size are
     * encrypted in bounded memory.
     */
    private final Encryption encryption;

    public EncryptingStorage(Storage delegate, Encryption encryption) {
        super(delegate);
        this.encryption = encryption;
    }

    @Override
    public PutResult putIfAbsent(String key, byte[] content) {
        return super.putIfAbsent(key, seal(key, content));
    }

    @Override
    public PutResult putIfAbsent(String key, Path file) {
        Path sealed = null;
        try {
            sealed = sealedFile(file);
            try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
                 OutputStream out = new BufferedOutputStream(Files.newOutputStream(sealed), 1 << 16)) {
                seal(key, in, out);
            }
            return super.putIfAbsent(key, sealed);
        } catch (IOException e) {
            throw new StorageException("put", key, true, "encrypting " + file + " failed: " + e, e);
        } finally {
            if (sealed != null) {
                try {
                    Files.deleteIfExists(sealed);
                } catch (IOException e) {
                    // removed with the leftovers of its source at the next open (see sealedFile)
                }
            }
        }
    }

    /**
     * Where a file is sealed before it is put: beside it, named after it with {@link #SEALED_SUFFIX}
     * ({@code <db>-walship-snapshot-<txid>.sealed}, {@code segment-….walship-spill.sealed}), so
     * that what a killed process left is removed with the leftovers of its source
     * (FileOwnership, SegmentSpill).
     */
    public static Path sealedFile(Path source) {
        return source.toAbsolutePath().resolveSibling(source.getFileName() + SEALED_SUFFIX);
    }

    /** The suffix of {@link #sealedFile}. */
    public static final String SEALED_SUFFIX = ".sealed";

    @Override
    public Optional<byte[]> get(String key) {
        return super.get(key).map(bytes -> open(key, bytes));
    }

    @Override
    public Optional<InputStream> open(String key) {
        Optional<InputStream> stream = super.open(key);
        if (stream.isEmpty()) {
            return stream;
        }
        InputStream in = stream.get();
        try {
            byte[] head = in.readNBytes(Envelope.HEADER);
            if (!Envelope.isEnvelope(head)) {
                plaintext(key);
                return Optional.of(new java.io.SequenceInputStream(new ByteArrayInputStream(head), in));
            }
            return Optional.of(new OpeningStream(Envelope.open(key, head, encryption.keys()), in));
        } catch (IOException e) {
            closeQuietly(in);
            throw new StorageException("get", key, true, e.toString(), e);
        } catch (RuntimeException e) {
            closeQuietly(in);
            throw e;
        }
    }

    @Override
    public Optional<byte[]> getRange(String key, long offset, int length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("offset and length must be >= 0: " + offset + ", " + length);
        }
        Optional<byte[]> head = super.getRange(key, 0, Envelope.HEADER);
        if (head.isEmpty()) {
            return head;
        }
        if (!Envelope.isEnvelope(head.get())) {
            plaintext(key);
            return super.getRange(key, offset, length);
        }
        Envelope envelope = Envelope.open(key, head.get(), encryption.keys());
        if (length == 0) {
            return Optional.of(new byte[0]);
        }
        long first = offset / envelope.chunkSize;
        long last = (offset + length - 1) / envelope.chunkSize;
        long from = envelope.chunkOffset(first);
        int span = Math.toIntExact(envelope.chunkOffset(last + 1) - from);
        Optional<byte[]> sealed = super.getRange(key, from, span);
        if (sealed.isEmpty()) {
            return sealed;
        }
        byte[] bytes = sealed.get();
        byte[] plain = new byte[Math.toIntExact((last - first + 1) * envelope.chunkSize)];
        int plainLength = 0;
        int at = 0;
        for (long index = first; index <= last && at < bytes.length; index++) {
            int chunk = Math.min(envelope.chunkSize + Envelope.TAG, bytes.length - at);
            plainLength += envelope.openChunk(index, bytes, at, chunk, plain, plainLength);
            at += chunk;
        }
        int skip = (int) (offset - first * envelope.chunkSize);
        if (skip >= plainLength) {
            return Optional.of(new byte[0]); // past the end, as a plain storage answers
        }
        return Optional.of(Arrays.copyOfRange(plain, skip, Math.min(plainLength, skip + length)));
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        return super.list(prefix).stream().map(o -> {
            long plain = Envelope.plaintextSize(o.size(), FormatLayout.ENVELOPE_CHUNK_SIZE);
            return new ObjectInfo(o.key(), plain < 0 ? o.size() : plain, o.lastModified());
        }).toList();
    }

    @Override
    public Storage under(String prefix) {
        // the envelope binds each object to its key as the database sees it (its own prefix):
        // a database's objects then open through a storage of its own prefix too (walship restore root/name)
        return new EncryptingStorage(delegate().under(prefix), encryption);
    }

    @Override
    public String toString() {
        return super.toString() + " (encrypted)";
    }

    private void plaintext(String key) {
        if (!encryption.allowsPlaintext()) {
            throw new EncryptionException(EncryptionException.Kind.PLAINTEXT, key, null);
        }
    }

    private byte[] seal(String key, byte[] content) {
        Envelope envelope = Envelope.seal(key, encryption.keys());
        byte[] out = new byte[Math.toIntExact(envelope.sealedSize(content.length))];
        System.arraycopy(envelope.header, 0, out, 0, Envelope.HEADER);
        int at = Envelope.HEADER;
        long chunks = envelope.chunks(content.length);
        for (long index = 0; index < chunks; index++) {
            int from = (int) (index * envelope.chunkSize);
            int length = Math.min(envelope.chunkSize, content.length - from);
            at += envelope.sealChunk(index, index == chunks - 1, content, from, length, out, at);
        }
        return out;
    }

    private void seal(String key, InputStream in, OutputStream out) throws IOException {
        Envelope envelope = Envelope.seal(key, encryption.keys());
        out.write(envelope.header);
        byte[] plain = new byte[envelope.chunkSize];
        byte[] next = new byte[envelope.chunkSize];
        byte[] sealed = new byte[envelope.chunkSize + Envelope.TAG];
        int length = in.readNBytes(plain, 0, plain.length);
        for (long index = 0; ; index++) {
            int nextLength = length < plain.length ? 0 : in.readNBytes(next, 0, next.length);
            boolean last = nextLength == 0;
            out.write(sealed, 0, envelope.sealChunk(index, last, plain, 0, length, sealed, 0));
            if (last) {
                return;
            }
            byte[] swap = plain;
            plain = next;
            next = swap;
            length = nextLength;
        }
    }

    private byte[] open(String key, byte[] bytes) {
        if (!Envelope.isEnvelope(bytes)) {
            plaintext(key);
            return bytes;
        }
        Envelope envelope = Envelope.open(key, bytes, encryption.keys());
        long plainSize = Envelope.plaintextSize(bytes.length, envelope.chunkSize);
        if (plainSize < 0) {
            throw new CorruptObjectException(key, "encrypted object of " + bytes.length + " bytes cannot hold whole"
                    + " chunks of " + envelope.chunkSize, -1);
        }
        byte[] plain = new byte[Math.toIntExact(plainSize)];
        long chunks = envelope.chunks(plainSize);
        int at = Envelope.HEADER;
        int written = 0;
        for (long index = 0; index < chunks; index++) {
            int length = (int) Math.min(envelope.chunkSize + (long) Envelope.TAG, bytes.length - at);
            written += envelope.openChunk(index, index == chunks - 1, bytes, at, length, plain, written);
            at += length;
        }
        return plain;
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // the error at hand says more
        }
    }

    /** Where chunks after the first of a stream are read and opened, one ahead of its reader. */
    private static final java.util.concurrent.ThreadPoolExecutor READ_AHEAD = readAhead();

    private static java.util.concurrent.ThreadPoolExecutor readAhead() {
        int threads = Runtime.getRuntime().availableProcessors();
        java.util.concurrent.atomic.AtomicInteger number = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(threads, threads,
                10, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "walship-decrypt-" + number.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** Decrypts a stored object chunk by chunk as it is read; the last chunk is the one the stream ends with. */
    private static final class OpeningStream extends InputStream {
        /*
         * The first chunk is opened on the reader's thread; each later one is read and opened on a
         * READ_AHEAD thread while the reader consumes the one before (a restore decompresses and
         * writes chunk i while chunk i+1 is authenticated: a 512 MiB restore took 1.14x the
         * plaintext one with both on one thread). At most one chunk is in flight per stream, so the
         * stream and the envelope's cipher are used by one thread at a time, and the two buffer
         * sets alternate: chunk i in set i % 2.
         */
        private final Envelope envelope;
        private final InputStream in;
        private final byte[][] sealed;
        private final byte[][] plains;
        private final byte[] ahead;
        /** Producer side (one thread at a time): the bytes read past the chunk being opened. */
        private int aheadLength;
        private long produced;
        /** The next chunk, being opened; null once the last was handed over. */
        private java.util.concurrent.Future<Opened> next;
        private byte[] plain;
        private int position;
        private int limit;
        private long index;
        private boolean ended;

        private record Opened(int length, boolean last) {
        }

        OpeningStream(Envelope envelope, InputStream in) throws IOException {
            this.envelope = envelope;
            this.in = in;
            int sealedSize = envelope.chunkSize + Envelope.TAG;
            this.sealed = new byte[][] {new byte[sealedSize], new byte[sealedSize]};
            this.plains = new byte[][] {new byte[envelope.chunkSize], new byte[envelope.chunkSize]};
            this.ahead = new byte[sealedSize];
            this.aheadLength = in.readNBytes(ahead, 0, ahead.length);
            handOver(openNext());
        }

        /** Producer: reads and opens chunk {@code produced} into its buffer set. */
        private Opened openNext() throws IOException {
            int set = (int) (produced % 2);
            int length = aheadLength;
            System.arraycopy(ahead, 0, sealed[set], 0, length);
            aheadLength = length < ahead.length ? 0 : in.readNBytes(ahead, 0, ahead.length);
            boolean last = aheadLength == 0;
            if (length < Envelope.TAG) {
                throw new CorruptObjectException(envelope.objectKey, "encrypted object ends inside chunk " + produced,
                        envelope.chunkOffset(produced));
            }
            int opened = envelope.openChunk(produced, last, sealed[set], 0, length, plains[set], 0);
            produced++;
            return new Opened(opened, last);
        }

        /** Makes {@code opened} (chunk {@code index}) the one being read, and starts opening the next. */
        private void handOver(Opened opened) {
            plain = plains[(int) (index % 2)];
            limit = opened.length();
            position = 0;
            index++;
            ended = opened.last();
            next = ended ? null : READ_AHEAD.submit(this::openNext);
        }

        /** The next chunk; false at the end. */
        private boolean fill() throws IOException {
            if (ended) {
                return false;
            }
            try {
                handOver(next.get());
                return true;
            } catch (java.util.concurrent.ExecutionException e) {
                next = null;
                ended = true;
                if (e.getCause() instanceof IOException io) {
                    throw io;
                }
                if (e.getCause() instanceof RuntimeException runtime) {
                    throw runtime;
                }
                throw new IOException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while opening " + envelope.objectKey);
            }
        }

        @Override
        public int read() throws IOException {
            while (position == limit) {
                if (!fill()) {
                    return -1;
                }
            }
            return plain[position++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (position == limit) {
                if (!fill()) {
                    return -1;
                }
            }
            int n = Math.min(len, limit - position);
            System.arraycopy(plain, position, b, off, n);
            position += n;
            return n;
        }

        @Override
        public void close() throws IOException {
            java.util.concurrent.Future<Opened> inFlight = next;
            next = null;
            ended = true;
            in.close(); // first: a read ahead blocked on the stream ends with it
            if (inFlight != null) {
                try {
                    inFlight.get();
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
                    // what it failed with no longer matters: nobody reads on
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
