package io.walship.bench;

import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.encryption.Encryption;
import io.walship.encryption.KeyProvider;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.storage.ObjectInfo;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * encrypted_*: what AES-256-GCM encryption of everything stored costs. ASYNC single-row writes
 * of an encrypting primary against plain SQLite and an unencrypted primary in one JMH run; and
 * a restore from an encrypted copy of a storage against the same restore unencrypted, in turn.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.walship.bench.EncryptionCost [--quick] [--out DIR]</pre>
 * (standalone: merges its keys into DIR/results.json, default bench)
 */
final class EncryptionCost {
    private EncryptionCost() {
    }

    /** The key the encrypting engines use: fixed bytes, for a benchmark only. */
    static Encryption encryption() {
        byte[] key = new byte[32];
        new Random(2026).nextBytes(key);
        return Encryption.with(KeyProvider.of(Map.of("bench", key)));
    }

    static void measure(Measurements into, boolean quick) throws Exception {
        Map<String, double[]> scores = new LinkedHashMap<>();
        BenchRunner.collectWriteScores(BenchRunner.run(BenchRunner.options(quick).forks(quick ? 1 : 2)
                .include("io\\.walship\\.bench\\.WriteBenchmark\\.").param("workload", "insert")
                .param("engine", "sqlite", "walship", "walship-encrypted")
                .param("prefillBytes", String.valueOf(10L << 20))), scores, new java.util.ArrayList<>(), "");
        double[] encrypted = BenchRunner.ratio(scores, "walship-encrypted/insert", "sqlite/insert");
        double[] plain = BenchRunner.ratio(scores, "walship/insert", "sqlite/insert");
        double[] overhead = BenchRunner.ratio(scores, "walship-encrypted/insert", "walship/insert");
        into.results.put("encrypted_async_write_ratio", Measurements.round(encrypted[0], 3));
        into.results.put("encrypted_async_write_ratio_error", Measurements.round(encrypted[1], 3));
        into.results.put("encrypted_run_async_write_ratio", Measurements.round(plain[0], 3));
        into.results.put("encrypted_write_ratio", Measurements.round(overhead[0], 3));
        into.results.put("encrypted_write_ratio_error", Measurements.round(overhead[1], 3));
        into.results.put("encrypted_added_us_per_txn", Measurements.round(
                BenchRunner.micros(scores, "walship-encrypted/insert") - BenchRunner.micros(scores, "walship/insert"), 1));
        into.notes.put("encrypted_async_write_ratio", "an ASYNC primary encrypting what it stores ÷ plain sqlite-jdbc,"
                + " one row per transaction, in one JMH run with the unencrypted primary (encrypted_run_async_write_ratio:"
                + " its async_write_ratio in that run)");
        into.notes.put("encrypted_write_ratio", "encrypting ÷ unencrypted primary, same run; target >= 0.95");
        into.notes.put("encrypted_added_us_per_txn", "time per transaction encryption adds, in µs");

        long bytes = quick ? 64L << 20 : 512L << 20;
        Path dir = BenchDatabase.tempDir("encrypted-restore");
        try {
            Storage storage = FileSystemStorage.open(dir.resolve("storage"));
            try (Primary primary = Primary.open(storage, dir.resolve("primary.db"),
                    PrimaryOptions.builder().durability(Durability.ASYNC).build())) {
                primary.write(c -> {
                    BenchDatabase.createSchema(c);
                    BenchDatabase.fill(c, bytes, new Random(1));
                });
                primary.snapshot();
            }
            Storage sealed = encryption().wrap(FileSystemStorage.open(dir.resolve("sealed")));
            Path scratch = dir.resolve("object");
            for (ObjectInfo object : storage.list("")) {
                try (InputStream in = storage.open(object.key()).orElseThrow()) {
                    Files.copy(in, scratch, StandardCopyOption.REPLACE_EXISTING);
                }
                sealed.putIfAbsent(object.key(), scratch);
            }
            Files.delete(scratch);
            double[] plainSeconds = new double[3];
            double[] sealedSeconds = new double[3];
            double cpSeconds = Double.MAX_VALUE;
            for (int run = 0; run < 3; run++) { // in turn, so that both see the same machine
                Path copy = dir.resolve("cp.db");
                long started = System.nanoTime();
                Measurements.copyAndSync(dir.resolve("primary.db"), copy);
                cpSeconds = Math.min(cpSeconds, (System.nanoTime() - started) / 1e9);
                Files.delete(copy);
                plainSeconds[run] = timeRestore(storage, dir.resolve("plain.db"));
                sealedSeconds[run] = timeRestore(sealed, dir.resolve("sealed.db"));
            }
            double plainBest = Arrays.stream(plainSeconds).min().orElseThrow();
            double sealedBest = Arrays.stream(sealedSeconds).min().orElseThrow();
            into.results.put("encrypted_restore_ratio", Measurements.round(cpSeconds / sealedBest, 2));
            into.results.put("encrypted_run_restore_ratio", Measurements.round(cpSeconds / plainBest, 2));
            into.results.put("encrypted_restore_vs_plain", Measurements.round(plainBest / sealedBest, 3));
            into.notes.put("encrypted_restore_ratio", "restore of a " + (bytes >> 20) + " MiB database from an"
                    + " encrypted storage vs `cp` + `sync`, best of 3 (encrypted_run_restore_ratio: the same"
                    + " unencrypted, in turn in the same run)");
            into.notes.put("encrypted_restore_vs_plain", "unencrypted ÷ encrypted restore time, best of 3 each,"
                    + " in turn; target >= 0.95");
        } finally {
            BenchDatabase.delete(dir);
        }
    }

    private static double timeRestore(Storage storage, Path target) throws Exception {
        long started = System.nanoTime();
        Restore.run(storage, target, RestoreTarget.latest());
        double seconds = (System.nanoTime() - started) / 1e9;
        Files.delete(target);
        return seconds;
    }

    /** Runs this measurement alone and merges its keys into results.json and RESULTS.md. */
    public static void main(String[] args) throws Exception {
        BenchRunner.runAlone(args, EncryptionCost.class, EncryptionCost::measure);
    }
}
