package io.walship.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Seeded random damage to a stored object: bit flips, truncation, inserted bytes, extreme
 * header and block-length values, scattered bytes, garbage. Half of the mutants get a fresh
 * trailer, so they pass the whole-object checksum and reach the checks behind it. And aimed
 * damage to a local file: one byte flipped in place.
 */
public final class Mutations {
    private Mutations() {
    }

    /** Flips a bit of the byte at {@code offset} of {@code file}, in place: a torn or rotten write. */
    public static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            channel.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x40)).rewind();
            channel.write(b, offset);
        }
    }

    public static byte[] mutate(byte[] original, Random random) {
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
}
