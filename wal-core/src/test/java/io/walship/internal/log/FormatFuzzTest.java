package io.walship.internal.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.walship.WalshipException;
import io.walship.testing.Mutations;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random mutations of real segments and snapshots fed to the decoders: every outcome is
 * either the original content or a typed {@link WalshipException}: no other exception, no
 * out-of-memory (lengths are bounded before allocation), no hang. Half of the mutants get a
 * fresh trailer, so they pass the whole-object checksum and reach the deeper checks.
 */
class FormatFuzzTest {
    private static final int CASES = 3000;
    private static final int PAGE = 1024;

    private static byte[] segment(Random random) throws IOException {
        SegmentWriter writer = new SegmentWriter(PAGE, 17);
        long txid = 40;
        for (int t = 0; t < 1 + random.nextInt(4); t++) {
            int pages = random.nextInt(4);
            int[] pgnos = new int[pages];
            byte[] images = new byte[pages * PAGE];
            for (int i = 0; i < pages; i++) {
                pgnos[i] = 1 + i * 3;
                for (int b = 0; b < PAGE; b += 1 + random.nextInt(8)) {
                    images[i * PAGE + b] = (byte) random.nextInt(4);
                }
            }
            new Transaction(txid++, 1000 + t, 12, PAGE, pgnos, images, random.nextLong()).writeTo(writer);
        }
        return writer.seal().bytes().orElseThrow();
    }

    private static byte[] snapshot(Random random) throws IOException {
        int pages = random.nextInt(6);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        SnapshotWriter writer = new SnapshotWriter(out, PAGE, pages, 9, 77, 5);
        ByteBuffer page = ByteBuffer.allocate(PAGE);
        for (int i = 0; i < pages; i++) {
            page.put(i % PAGE, (byte) i);
            writer.writePage(page, 0);
        }
        writer.finish();
        return out.toByteArray();
    }

    private static String decodeSegment(byte[] bytes) {
        SegmentReader reader = SegmentReader.open("log/fuzz", bytes);
        StringBuilder sb = new StringBuilder();
        for (Transaction t = Transaction.next(reader); t != null; t = Transaction.next(reader)) {
            sb.append(t.txid()).append(':').append(Arrays.hashCode(t.pageImages())).append(';');
        }
        return sb.toString();
    }

    private static String decodeSnapshot(byte[] bytes) throws IOException {
        SnapshotReader reader = SnapshotReader.open("snapshots/fuzz", new ByteArrayInputStream(bytes));
        byte[] page = new byte[reader.pageSize()];
        int hash = 1;
        for (int i = 0; i < reader.pageCount(); i++) { // page by page, as a restore does: no page-count allocation
            reader.readPage(page, 0);
            hash = 31 * hash + Arrays.hashCode(page);
        }
        reader.finish();
        return reader.txid() + ":" + hash;
    }

    /** Whether the last 8 bytes are the xxHash64 of the rest: the whole-object checksum holds. */
    private static boolean sealed(byte[] bytes) {
        return bytes.length > 8 && ByteBuffer.wrap(bytes).getLong(bytes.length - 8)
                == net.jpountz.xxhash.XXHashFactory.fastestInstance().hash64().hash(bytes, 0, bytes.length - 8, 0);
    }

    @Test
    void decoders_mutatedObjects_onlyTypedExceptions() {
        assertTimeoutPreemptively(Duration.ofMinutes(2), () -> {
            Random random = new Random(20261125);
            int rejected = 0;
            for (int i = 0; i < CASES; i++) {
                boolean isSegment = i % 2 == 0;
                byte[] original = isSegment ? segment(random) : snapshot(random);
                String expected = isSegment ? decodeSegment(original) : decodeSnapshot(original);
                byte[] mutant = Mutations.mutate(original, random);
                try {
                    String actual = isSegment ? decodeSegment(mutant) : decodeSnapshot(mutant);
                    if (!Arrays.equals(mutant, original)) {
                        // only a change behind a valid object checksum (a resealed mutant: page bytes, commit
                        // times) can decode; the database checksum catches changed pages at apply
                        assertThat(sealed(mutant)).as("case %d decoded a changed object whose checksum is wrong", i)
                                .isTrue();
                    } else {
                        assertThat(actual).isEqualTo(expected);
                    }
                } catch (WalshipException e) {
                    rejected++;
                } catch (Throwable t) {
                    throw new AssertionError("case " + i + " (" + (isSegment ? "segment" : "snapshot")
                            + ") threw an untyped " + t, t);
                }
            }
            assertThat(rejected).as("most mutants are rejected").isGreaterThan(CASES / 2);
        });
    }
}
