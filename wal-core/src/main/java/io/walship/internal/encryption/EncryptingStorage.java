package io.walship.internal.encryption;

import io.walship.BadObjectException;
import io.walship.encryption.EncryptionException;
import io.walship.encryption.KeyProvider;
import io.walship.internal.FileDurability;
import io.walship.internal.log.FormatLayout;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
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
     * A file put is sealed into a file beside it first (FileDurability.sealedFile), so objects of any size are
     * encrypted in bounded memory.
     */
    private final KeyProvider keys;
    private final boolean allowPlaintext;

    /**
     * @param keys           the current key seals, every key held opens
     * @param allowPlaintext read plaintext objects (a migration) instead of refusing them
     */
    public EncryptingStorage(Storage delegate, KeyProvider keys, boolean allowPlaintext) {
        super(delegate);
        this.keys = keys;
        this.allowPlaintext = allowPlaintext;
        CipherWarmup.start();
    }

    @Override
    public PutResult putIfAbsent(String key, byte[] content) {
        return super.putIfAbsent(key, seal(key, content));
    }

    @Override
    public PutResult putIfAbsent(String key, Path file) {
        Path sealed = null;
        try {
            sealed = FileDurability.sealedFile(file);
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
                    // removed with the leftovers of its source at the next open (see FileDurability.sealedFile)
                }
            }
        }
    }

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
            return Optional.of(new OpeningStream(Envelope.open(key, head, keys), in));
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
        // A range starting in the first chunk (an object header: the catalog reads thousands) takes
        // one request, the envelope's header with the chunks that hold it, at the chunk size this
        // build writes; any other range, or another chunk size, a second one for its chunks.
        int written = FormatLayout.ENVELOPE_CHUNK_SIZE;
        boolean fromStart = offset < written;
        long lastWritten = length == 0 ? 0 : (offset + length - 1) / written;
        Optional<byte[]> head = super.getRange(key, 0, fromStart
                ? Math.toIntExact(Envelope.HEADER + (lastWritten + 1) * (written + (long) Envelope.TAG))
                : Envelope.HEADER);
        if (head.isEmpty()) {
            return head;
        }
        if (!Envelope.isEnvelope(head.get())) {
            plaintext(key);
            return super.getRange(key, offset, length);
        }
        Envelope envelope = Envelope.open(key, head.get(), keys);
        if (length == 0) {
            return Optional.of(new byte[0]);
        }
        long first = offset / envelope.chunkSize;
        long last = (offset + length - 1) / envelope.chunkSize;
        byte[] bytes = head.get();
        int at = Envelope.HEADER;
        if (!fromStart || envelope.chunkSize != written) {
            long from = envelope.chunkOffset(first);
            Optional<byte[]> sealed = super.getRange(key, from, Math.toIntExact(envelope.chunkOffset(last + 1) - from));
            if (sealed.isEmpty()) {
                return sealed;
            }
            bytes = sealed.get();
            at = 0;
        }
        byte[] plain = new byte[Math.toIntExact((last - first + 1) * envelope.chunkSize)];
        int plainLength = 0;
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
        return new EncryptingStorage(delegate().under(prefix), keys, allowPlaintext);
    }

    @Override
    public String toString() {
        return super.toString() + " (encrypted)";
    }

    private void plaintext(String key) {
        if (!allowPlaintext) {
            throw new EncryptionException(EncryptionException.Kind.PLAINTEXT, key, null);
        }
    }

    private byte[] seal(String key, byte[] content) {
        Envelope envelope = Envelope.seal(key, keys);
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
        Envelope envelope = Envelope.seal(key, keys);
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
        Envelope envelope = Envelope.open(key, bytes, keys);
        long plainSize = Envelope.plaintextSize(bytes.length, envelope.chunkSize);
        if (plainSize < 0) {
            throw BadObjectException.corrupt(key, "encrypted object of " + bytes.length + " bytes cannot hold whole"
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

    /**
     * Decrypts a stored object chunk by chunk as it is read; the last chunk is the one the stream
     * ends with, so one sealed chunk is always read ahead. A read of a chunk's size or more opens
     * the next chunk straight into the caller's array, and the read-ahead buffer is swapped, not
     * copied: a restore streaming a snapshot pays the cipher and no extra copy of the object.
     */
    private static final class OpeningStream extends InputStream {
        private final Envelope envelope;
        private final InputStream in;
        private byte[] sealed;
        private byte[] ahead;
        private int aheadLength;
        private final byte[] plain;
        private int position;
        private int limit;
        private long index;
        private boolean ended;

        OpeningStream(Envelope envelope, InputStream in) throws IOException {
            this.envelope = envelope;
            this.in = in;
            this.sealed = new byte[envelope.chunkSize + Envelope.TAG];
            this.ahead = new byte[sealed.length];
            this.plain = new byte[envelope.chunkSize];
            this.aheadLength = in.readNBytes(ahead, 0, ahead.length);
        }

        /**
         * Opens the next chunk into {@code out} at {@code at} (room for a whole chunk); returns its
         * plaintext length, or -1 at the end. A chunk is the last when nothing follows it.
         */
        private int openNext(byte[] out, int at) throws IOException {
            if (ended) {
                return -1;
            }
            byte[] swap = sealed;
            sealed = ahead;
            ahead = swap;
            int length = aheadLength;
            aheadLength = length < ahead.length ? 0 : in.readNBytes(ahead, 0, ahead.length);
            boolean last = aheadLength == 0;
            if (length < Envelope.TAG) {
                throw BadObjectException.corrupt(envelope.objectKey, "encrypted object ends inside chunk " + index,
                        envelope.chunkOffset(index));
            }
            int opened = envelope.openChunk(index, last, sealed, 0, length, out, at);
            index++;
            ended = last;
            return opened;
        }

        /** Refills {@link #plain}; false at the end. */
        private boolean fill() throws IOException {
            int opened = openNext(plain, 0);
            if (opened < 0) {
                return false;
            }
            position = 0;
            limit = opened;
            return true;
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
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            if (position == limit && len >= plain.length) {
                int opened;
                do { // an empty chunk opens to nothing: go on to the next
                    opened = openNext(b, off);
                } while (opened == 0);
                return opened;
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
            in.close();
        }
    }
}
