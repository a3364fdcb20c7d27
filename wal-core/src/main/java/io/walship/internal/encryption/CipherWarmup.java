package io.walship.internal.encryption;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Brings the JDK's AES-GCM code up to compiled speed before walship's own data needs it: once per
 * JVM, on a daemon thread, when the first encrypting storage is made.
 *
 * <p>Why: the JIT compiles the JDK's GHASH and GCM methods (and their AES-NI/CLMUL intrinsics) only
 * after some thousands of calls, and until then they run in profiled code some 25 times slower.
 * An object's 64 KiB chunks are one call each, so a fresh JVM opened its first ~200 MiB at about
 * 70 MB/s: measured on the 2-core VM (JDK 17), draining a 287 MiB encrypted snapshot took 1.87 s
 * in a fresh JVM and 0.10 s in a warm one; after this warm-up (20,000 tiny seal-and-open pairs,
 * 0.24 s of one core) it took 0.15 s. Operators restore in fresh JVMs ({@code walship restore}),
 * so this is most of what encryption added to a restore.
 *
 * <p>It uses a throwaway all-zero key and zero bytes: no key material of the user's is touched.
 * Failures are ignored (a JVM without AES-GCM fails where walship's data is sealed, with a message).
 */
final class CipherWarmup {
    /** Calls of each direction; chosen above the JIT's tier-4 thresholds (5,000 calls, 15,000 with loops). */
    static final int ROUNDS = 20_000;
    private static final int BYTES = 64;
    private static final AtomicBoolean STARTED = new AtomicBoolean();
    private static volatile Thread thread;

    private CipherWarmup() {
    }

    /** Starts the warm-up unless this JVM already did. */
    static void start() {
        if (STARTED.compareAndSet(false, true)) {
            Thread t = new Thread(CipherWarmup::run, "walship-cipher-warmup");
            t.setDaemon(true);
            thread = t;
            t.start();
        }
    }

    /** The warm-up thread once started, for tests. */
    static Thread thread() {
        return thread;
    }

    private static void run() {
        try {
            Cipher cipher = Cipher.getInstance(Envelope.TRANSFORMATION);
            SecretKeySpec key = new SecretKeySpec(new byte[32], "AES");
            byte[] plain = new byte[BYTES];
            byte[] sealed = new byte[BYTES + Envelope.TAG];
            byte[] opened = new byte[BYTES + Envelope.TAG];
            byte[] nonce = new byte[12];
            for (int i = 0; i < ROUNDS; i++) {
                ByteBuffer.wrap(nonce).putInt(8, i); // GCM refuses a nonce used just before under the same key
                GCMParameterSpec spec = new GCMParameterSpec(Envelope.TAG * 8, nonce);
                cipher.init(Cipher.ENCRYPT_MODE, key, spec);
                cipher.updateAAD(nonce);
                int length = cipher.doFinal(plain, 0, BYTES, sealed, 0);
                cipher.init(Cipher.DECRYPT_MODE, key, spec);
                cipher.updateAAD(nonce);
                cipher.doFinal(sealed, 0, length, opened, 0);
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            // only speed was at stake
        }
    }
}
