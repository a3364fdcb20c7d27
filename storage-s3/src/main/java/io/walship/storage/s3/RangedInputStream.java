package io.walship.storage.s3;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Reads a large object as consecutive ranges fetched in parallel ahead of the reader, so a
 * restore is not limited by one connection's throughput. Memory: {@code parallel} ranges.
 */
final class RangedInputStream extends InputStream {
    /** Fetches bytes {@code from..to} (inclusive) of the object. */
    interface RangeFetcher {
        InputStream fetch(long from, long to) throws IOException;
    }

    private final long size;
    private final long rangeBytes;
    private final int parallel;
    private final ExecutorService executor;
    private final RangeFetcher fetcher;
    private final ArrayDeque<Future<byte[]>> ahead = new ArrayDeque<>();
    private InputStream current;
    private long nextRangeStart;

    /** Reads bytes {@code from} up to {@code size} of an object of {@code size} bytes. */
    RangedInputStream(long from, long size, long rangeBytes, int parallel, ExecutorService executor,
                      RangeFetcher fetcher) {
        this.current = InputStream.nullInputStream();
        this.nextRangeStart = from;
        this.size = size;
        this.rangeBytes = rangeBytes;
        this.parallel = parallel;
        this.executor = executor;
        this.fetcher = fetcher;
        fill();
    }

    private void fill() {
        while (ahead.size() < parallel && nextRangeStart < size) {
            long from = nextRangeStart;
            long to = Math.min(size, from + rangeBytes) - 1;
            ahead.add(executor.submit(() -> {
                byte[] range = new byte[Math.toIntExact(to - from + 1)]; // exactly: no growing copies
                try (InputStream in = fetcher.fetch(from, to)) {
                    int read = in.readNBytes(range, 0, range.length);
                    if (read != range.length || in.read() != -1) {
                        throw new IOException("range " + from + "-" + to + " returned " + (read == range.length
                                ? "more than " : "") + read + " bytes");
                    }
                    return range;
                }
            }));
            nextRangeStart = to + 1;
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0; // asking the current range could say -1 at its end, which would end the whole object
        }
        while (true) {
            int n = current.read(b, off, len);
            if (n >= 0) {
                return n;
            }
            current.close();
            if (ahead.isEmpty()) {
                return -1;
            }
            try {
                current = new java.io.ByteArrayInputStream(ahead.poll().get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while reading a range");
            } catch (ExecutionException e) {
                throw new IOException("ranged read failed: " + e.getCause(), e.getCause());
            }
            fill();
        }
    }

    @Override
    public void close() throws IOException {
        ahead.forEach(f -> f.cancel(true));
        ahead.clear();
        current.close();
    }
}
