package io.walship.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.walship.WalshipException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import net.jpountz.xxhash.XXHashFactory;
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

    private static byte[] segment(Random random) {
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
            writer.add(new Transaction(txid++, 1000 + t, 12, PAGE, pgnos, images, random.nextLong()));
        }
        return writer.toByteArray();
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

    static byte[] mutate(byte[] original, Random random) {
        byte[] bytes = original.clone();
        int kind = random.nextInt(7);
        switch (kind) {
            case 0 -> bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
            case 1 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length));
            case 2 -> {
                int at = random.nextInt(bytes.length);
                byte[] longer = new byte[bytes.length + 1 + random.nextInt(64)];
                System.arraycopy(bytes, 0, longer, 0, at);
                random.nextBytes(Arrays.copyOfRange(longer, at, longer.length - (bytes.length - at)));
                System.arraycopy(bytes, at, longer, longer.length - (bytes.length - at), bytes.length - at);
                bytes = longer;
            }
            case 3 -> { // a header or length field set to an extreme value
                int at = random.nextInt(Math.min(bytes.length, 64)) & ~3;
                int value = switch (random.nextInt(4)) {
                    case 0 -> Integer.MAX_VALUE;
                    case 1 -> -1;
                    case 2 -> 0;
                    default -> random.nextInt();
                };
                if (at + 4 <= bytes.length) {
                    ByteBuffer.wrap(bytes).putInt(at, value);
                }
            }
            case 4 -> { // a block header inside the body
                int at = 40 + random.nextInt(Math.max(1, bytes.length - 48));
                if (at + 8 <= bytes.length) {
                    ByteBuffer.wrap(bytes).putInt(at, random.nextBoolean() ? Integer.MAX_VALUE : random.nextInt(1 << 21));
                }
            }
            case 5 -> {
                for (int i = 0; i < 1 + random.nextInt(20); i++) {
                    bytes[random.nextInt(bytes.length)] = (byte) random.nextInt();
                }
            }
            default -> bytes = new byte[random.nextInt(200)];
        }
        if (bytes.length > 8 && random.nextBoolean()) { // reseal: pass the object checksum, test what lies behind it
            long hash = XXHashFactory.fastestInstance().hash64().hash(bytes, 0, bytes.length - 8, 0);
            ByteBuffer.wrap(bytes).putLong(bytes.length - 8, hash);
        }
        return bytes;
    }

    private static String decodeSegment(byte[] bytes) {
        SegmentReader reader = SegmentReader.open("log/fuzz", bytes);
        StringBuilder sb = new StringBuilder();
        for (Transaction t = reader.next(); t != null; t = reader.next()) {
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

    @Test
    void decoders_mutatedObjects_onlyTypedExceptions() {
        assertTimeoutPreemptively(Duration.ofMinutes(2), () -> {
            Random random = new Random(20261125);
            int rejected = 0;
            for (int i = 0; i < CASES; i++) {
                boolean isSegment = i % 2 == 0;
                byte[] original = isSegment ? segment(random) : snapshot(random);
                String expected = isSegment ? decodeSegment(original) : decodeSnapshot(original);
                byte[] mutant = mutate(original, random);
                try {
                    String actual = isSegment ? decodeSegment(mutant) : decodeSnapshot(mutant);
                    if (!Arrays.equals(mutant, original)) {
                        // a resealed change in page bytes or trailing data can decode; what decodes must be
                        // a well-formed object (the database checksum catches changed pages at apply)
                        assertThat(actual).isNotNull();
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
