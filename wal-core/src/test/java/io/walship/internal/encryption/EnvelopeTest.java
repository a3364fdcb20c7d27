package io.walship.internal.encryption;

import static io.walship.BadObjectException.Kind.CORRUPT;
import static io.walship.testing.BadObjects.badObject;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.walship.WalshipException;
import io.walship.encryption.Encryption;
import io.walship.encryption.EncryptionException;
import io.walship.encryption.KeyProvider;
import io.walship.internal.log.FormatLayout;
import io.walship.internal.log.ObjectHeader;
import io.walship.internal.log.SegmentReader;
import io.walship.storage.ObjectInfo;
import io.walship.storage.Storage;
import io.walship.testing.MemoryStorage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The encrypted envelope: round trips of every shape, and every way an object can be wrong. */
class EnvelopeTest {
    private static final int CHUNK = FormatLayout.ENVELOPE_CHUNK_SIZE;
    private static final byte[] K1 = key(1);
    private static final byte[] K2 = key(2);

    @TempDir
    Path dir;

    private final MemoryStorage raw = new MemoryStorage();

    static byte[] key(int seed) {
        byte[] key = new byte[32];
        new Random(seed).nextBytes(key);
        return key;
    }

    static KeyProvider keys(Object... idsAndKeys) {
        Map<String, byte[]> map = new LinkedHashMap<>();
        for (int i = 0; i < idsAndKeys.length; i += 2) {
            map.put((String) idsAndKeys[i], (byte[]) idsAndKeys[i + 1]);
        }
        return KeyProvider.of(map);
    }

    private static byte[] content(int size) {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return bytes;
    }

    private Storage encrypted(KeyProvider keys) {
        return Encryption.with(keys).wrap(raw);
    }

    @Test
    void everySize_roundTripsThroughGetOpenRangeAndList_fromBytesAndFiles() throws Exception {
        Storage storage = encrypted(keys("k1", K1));
        for (int size : new int[] {0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5}) {
            byte[] content = content(size);
            Path file = dir.resolve("object-" + size);
            Files.write(file, content);
            storage.putIfAbsent("log/bytes-" + size, content);
            storage.putIfAbsent("log/file-" + size, file);
            for (String key : new String[] {"log/bytes-" + size, "log/file-" + size}) {
                assertThat(raw.get(key).orElseThrow()).as("stored sealed").startsWith(0x57, 0x53, 0x45, 0x43)
                        .hasSize(Envelope.HEADER + size + 16 * (int) Math.max(1, (size + CHUNK - 1L) / CHUNK));
                assertThat(storage.get(key).orElseThrow()).as("get %s", key).isEqualTo(content);
                try (InputStream in = storage.open(key).orElseThrow()) {
                    assertThat(in.readAllBytes()).as("open %s", key).isEqualTo(content);
                }
                assertThat(storage.list("log/").stream().filter(o -> o.key().equals(key)).map(ObjectInfo::size))
                        .as("listed plaintext size").containsExactly((long) size);
                for (long[] range : new long[][] {{0, 48}, {size / 2, 10}, {Math.max(0, size - 3), 3},
                        {CHUNK - 2, 4}, {size, 5}, {0, size}}) {
                    byte[] expected = Arrays.copyOfRange(content, (int) Math.min(range[0], size),
                            (int) Math.min(size, range[0] + range[1]));
                    assertThat(storage.getRange(key, range[0], (int) range[1]).orElseThrow())
                            .as("range %s of %s", Arrays.toString(range), key).isEqualTo(expected);
                }
            }
        }
        try (var files = Files.list(dir)) {
            assertThat(files).as("no sealed temporary file left").allMatch(p -> p.getFileName().toString()
                    .startsWith("object-"));
        }
    }

    @Test
    void aHeaderRead_isOneStorageRequest_andARangeFurtherOnTwo() {
        io.walship.testing.CountingStorage counting = new io.walship.testing.CountingStorage(raw);
        Storage storage = Encryption.with(keys("k1", K1)).wrap(counting);
        byte[] content = content(3 * CHUNK);
        storage.putIfAbsent("log/0000000000000001", content);
        long before = counting.requests.get();
        assertThat(storage.getRange("log/0000000000000001", 0, 48).orElseThrow())
                .isEqualTo(Arrays.copyOf(content, 48));
        assertThat(counting.requests.get() - before).as("requests for a header").isEqualTo(1);
        before = counting.requests.get();
        assertThat(storage.getRange("log/0000000000000001", 2L * CHUNK + 7, 10).orElseThrow())
                .isEqualTo(Arrays.copyOfRange(content, 2 * CHUNK + 7, 2 * CHUNK + 17));
        assertThat(counting.requests.get() - before).as("requests for a range in the third chunk").isEqualTo(2);
    }

    @Test
    void aStream_closedHalfWay_orReadByteByByte_givesTheSameBytes() throws Exception {
        Storage storage = encrypted(keys("k1", K1));
        byte[] content = content(5 * CHUNK + 77);
        storage.putIfAbsent("snapshots/big", content);
        for (int round = 0; round < 3; round++) {
            try (InputStream in = storage.open("snapshots/big").orElseThrow()) {
                assertThat(in.readNBytes(CHUNK + 5)).isEqualTo(Arrays.copyOf(content, CHUNK + 5));
            }
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (InputStream in = storage.open("snapshots/big").orElseThrow()) {
            for (int b = in.read(); b >= 0; b = in.read()) {
                bytes.write(b);
            }
        }
        assertThat(bytes.toByteArray()).isEqualTo(content);
    }

    @Test
    void aStream_readInWholeChunksAndPiecesInTurn_givesTheSameBytes() throws Exception {
        // reads of a chunk or more open straight into the caller's array; smaller ones go through
        // the stream's own buffer: mixed, the two must hand out the object in order, once
        Storage storage = encrypted(keys("k1", K1));
        for (int size : new int[] {0, CHUNK, 4 * CHUNK, 6 * CHUNK + 77}) {
            byte[] content = content(size);
            storage.putIfAbsent("snapshots/mixed-" + size, content);
            int[] reads = {CHUNK, 7, 2 * CHUNK, CHUNK - 7, 3 * CHUNK + 1, 1};
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (InputStream in = storage.open("snapshots/mixed-" + size).orElseThrow()) {
                byte[] buffer = new byte[3 * CHUNK + 9];
                for (int i = 0; ; i++) {
                    int n = in.read(buffer, 2, reads[i % reads.length]);
                    if (n < 0) {
                        break;
                    }
                    assertThat(n).as("a read returns something or the end").isPositive();
                    bytes.write(buffer, 2, n);
                }
                assertThat(in.read(buffer, 0, CHUNK)).as("still the end").isEqualTo(-1);
            }
            assertThat(bytes.toByteArray()).as("size %d", size).isEqualTo(content);
        }
    }

    @Test
    void everyFlippedBit_isATypedErrorAndNeverOtherBytes() {
        Storage storage = encrypted(keys("k1", K1));
        byte[] content = content(2 * CHUNK + 100);
        storage.putIfAbsent("log/0000000000000007", content);
        byte[] sealed = raw.get("log/0000000000000007").orElseThrow();
        Random random = new Random(5);
        int tried = 0;
        for (int offset = 0; offset < sealed.length; offset += offset < Envelope.HEADER + 64 ? 1
                : 1 + random.nextInt(997)) {
            byte[] flipped = sealed.clone();
            flipped[offset] ^= (byte) (1 << random.nextInt(8));
            raw.delete("log/flipped");
            raw.putIfAbsent("log/flipped", flipped);
            Throwable thrown = catchThrowable(() -> storage.get("log/flipped"));
            assertThat(thrown).as("bit flipped at %d", offset).isInstanceOf(WalshipException.class);
            Throwable streamed = catchThrowable(() -> {
                try (InputStream in = storage.open("log/flipped").orElseThrow()) {
                    in.readAllBytes();
                }
            });
            assertThat(streamed).as("bit flipped at %d, streamed", offset).isInstanceOf(WalshipException.class);
            tried++;
        }
        assertThat(tried).isGreaterThan(Envelope.HEADER + 64);
    }

    @Test
    void truncatedExtendedOrRenamedObjects_failAuthentication() {
        Storage storage = encrypted(keys("k1", K1));
        storage.putIfAbsent("log/a", content(2 * CHUNK + 10));
        byte[] sealed = raw.get("log/a").orElseThrow();
        int twoChunks = Envelope.HEADER + 2 * (CHUNK + 16);
        raw.putIfAbsent("log/cut", Arrays.copyOf(sealed, twoChunks));
        assertThatThrownBy(() -> storage.get("log/cut")).is(badObject(CORRUPT))
                .hasMessageContaining("key=log/cut").hasMessageContaining("failed authentication");
        byte[] longer = Arrays.copyOf(sealed, sealed.length + CHUNK + 16);
        raw.putIfAbsent("log/longer", longer);
        assertThatThrownBy(() -> storage.get("log/longer")).is(badObject(CORRUPT));
        raw.putIfAbsent("log/b", sealed); // the same bytes under another name
        assertThatThrownBy(() -> storage.get("log/b")).is(badObject(CORRUPT))
                .hasMessageContaining("key=log/b");
        assertThatThrownBy(() -> storage.getRange("log/b", 0, 10)).is(badObject(CORRUPT));
    }

    @Test
    void wrongOrMissingKeys_andPlaintext_areRefusedByKind() {
        encrypted(keys("k1", K1)).putIfAbsent("log/a", content(500));
        assertThatThrownBy(() -> encrypted(keys("k1", K2)).get("log/a")).as("same id, other key")
                .is(badObject(CORRUPT));
        assertThatThrownBy(() -> encrypted(keys("k2", K2)).get("log/a"))
                .isInstanceOfSatisfying(EncryptionException.class, e -> {
                    assertThat(e.kind()).isEqualTo(EncryptionException.Kind.UNKNOWN_KEY);
                    assertThat(e.keyId()).isEqualTo("k1");
                    assertThat(e.key()).isEqualTo("log/a");
                });
        raw.putIfAbsent("log/plain", content(500));
        assertThatThrownBy(() -> encrypted(keys("k1", K1)).get("log/plain"))
                .isInstanceOfSatisfying(EncryptionException.class,
                        e -> assertThat(e.kind()).isEqualTo(EncryptionException.Kind.PLAINTEXT));
        assertThatThrownBy(() -> encrypted(keys("k1", K1)).open("log/plain"))
                .isInstanceOf(EncryptionException.class);
        assertThatThrownBy(() -> encrypted(keys("k1", K1)).getRange("log/plain", 0, 4))
                .isInstanceOf(EncryptionException.class);
        Storage migrating = Encryption.with(keys("k1", K1)).allowingPlaintext().wrap(raw);
        assertThat(migrating.get("log/plain").orElseThrow()).isEqualTo(content(500));
        assertThat(migrating.get("log/a").orElseThrow()).isEqualTo(content(500));
    }

    @Test
    void anEncryptedObjectReadWithoutKeys_isRefusedNamingItsKeyId() {
        encrypted(keys("prod-2026", K1)).putIfAbsent("log/0000000000000001", content(300));
        assertThatThrownBy(() -> SegmentReader.open("log/0000000000000001",
                raw.get("log/0000000000000001").orElseThrow()))
                .isInstanceOfSatisfying(EncryptionException.class, e -> {
                    assertThat(e.kind()).isEqualTo(EncryptionException.Kind.NO_KEY);
                    assertThat(e.keyId()).isEqualTo("prod-2026");
                });
    }

    @Test
    void rotation_readsEveryKeyItHolds_andWritesWithTheCurrentOne() {
        encrypted(keys("k1", K1)).putIfAbsent("log/1", content(10));
        encrypted(keys("k2", K2, "k1", K1)).putIfAbsent("log/2", content(20));
        byte[] k3 = key(3);
        Storage all = encrypted(keys("k3", k3, "k2", K2, "k1", K1));
        all.putIfAbsent("log/3", content(30));
        assertThat(all.get("log/1").orElseThrow()).isEqualTo(content(10));
        assertThat(all.get("log/2").orElseThrow()).isEqualTo(content(20));
        assertThat(all.get("log/3").orElseThrow()).isEqualTo(content(30));
        assertThat(ObjectHeader.envelopeKeyId(raw.get("log/3").orElseThrow())).isEqualTo("k3");
        assertThat(ObjectHeader.envelopeKeyId(raw.get("log/2").orElseThrow())).isEqualTo("k2");
    }

    @Test
    void keyTexts_areParsedAndTheirErrorsNeverHoldKeyMaterial() {
        String k1 = java.util.Base64.getEncoder().encodeToString(K1);
        String k2 = java.util.Base64.getEncoder().encodeToString(K2);
        KeyProvider parsed = KeyProvider.parse("new:" + k2 + ", old:" + k1 + "\n");
        assertThat(parsed.currentKeyId()).isEqualTo("new");
        assertThat(parsed.key("old").orElseThrow()).isEqualTo(K1);
        assertThat(parsed.toString()).doesNotContain(k1).doesNotContain(k2);
        String shortKey = java.util.Base64.getEncoder().encodeToString(Arrays.copyOf(K1, 16));
        for (String bad : new String[] {k1, "a:" + shortKey, "a:" + k1 + ",a:" + k2, "bad id:" + k1, "a:" + k1 + "!"}) {
            assertThatThrownBy(() -> KeyProvider.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(k1).doesNotContain(k2)
                            .doesNotContain(shortKey));
        }
    }
}
