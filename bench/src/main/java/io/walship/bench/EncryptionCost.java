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
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * encrypted_*: what AES-256-GCM encryption of everything stored costs. ASYNC single-row writes
 * of an encrypting primary against plain SQLite and an unencrypted primary in one JMH run; and
 * a restore from an encrypted copy of a storage against the same restore unencrypted, in turn,
 * in this JVM (the steady cost) and as whole {@code walship restore} commands (what an operator
 * waits for: a fresh JVM, whose AES-GCM code is not compiled yet).
 *
 * <pre>java -cp bench/target/benchmarks.jar io.walship.bench.EncryptionCost [--quick] [--out DIR]</pre>
 * (standalone: merges its keys into DIR/results.json, default bench)
 */
final class EncryptionCost {
    private EncryptionCost() {
    }

    /** The key the encrypting engines use: fixed bytes, for a benchmark only. */
    static Encryption encryption() {
        return Encryption.with(KeyProvider.of(Map.of("bench", KEY.clone())));
    }

    private static final byte[] KEY = new byte[32];

    static {
        new Random(2026).nextBytes(KEY);
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
            Path keys = dir.resolve("keys");
            Files.writeString(keys, "bench:" + java.util.Base64.getEncoder().encodeToString(KEY));
            int rounds = quick ? 3 : 7;
            double[] plainMs = new double[rounds];
            double[] sealedMs = new double[rounds];
            double[] plainCli = new double[rounds];
            double[] sealedCli = new double[rounds];
            double cp = Double.MAX_VALUE;
            Path out = dir.resolve("out.db");
            for (int run = 0; run < rounds; run++) { // in turn, each first every other round: both see the same machine
                cp = Math.min(cp, RestoreComparison.timed(() -> Measurements.copyAndSync(dir.resolve("primary.db"), out)));
                Files.delete(out);
                for (boolean sealing : run % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                    Storage from = sealing ? sealed : storage;
                    (sealing ? sealedMs : plainMs)[run] = RestoreComparison.timed(
                            () -> Restore.run(from, out, RestoreTarget.latest()));
                    Files.delete(out);
                    List<String> args = new ArrayList<>(List.of("restore",
                            dir.resolve(sealing ? "sealed" : "storage").toString(), "--to", out.toString(), "--no-progress"));
                    if (sealing) {
                        args.addAll(List.of("--keys-file", keys.toString()));
                    }
                    (sealing ? sealedCli : plainCli)[run] = RestoreComparison.timed(() -> {
                        ChildJvm child = ChildJvm.start(List.of(), io.walship.cli.WalshipCommand.class,
                                args.toArray(String[]::new));
                        if (child.waitFor() != 0) {
                            throw new IOException("walship restore " + (sealing ? "--keys-file" : "") + " failed");
                        }
                    });
                    Files.delete(out);
                }
            }
            double plainBest = Arrays.stream(plainMs).min().orElseThrow();
            double sealedBest = Arrays.stream(sealedMs).min().orElseThrow();
            double plainCliBest = Arrays.stream(plainCli).min().orElseThrow();
            double sealedCliBest = Arrays.stream(sealedCli).min().orElseThrow();
            double[] paired = new double[rounds];
            for (int run = 0; run < rounds; run++) {
                paired[run] = plainMs[run] / sealedMs[run];
            }
            Arrays.sort(paired);
            into.results.put("encrypted_restore_ratio", Measurements.round(cp / sealedBest, 2));
            into.results.put("encrypted_run_restore_ratio", Measurements.round(cp / plainBest, 2));
            into.results.put("encrypted_restore_vs_plain", Measurements.round(plainBest / sealedBest, 3));
            into.results.put("encrypted_restore_vs_plain_median", Measurements.round(paired[rounds / 2], 3));
            into.results.put("encrypted_restore_added_ms_per_gib", Math.round((sealedBest - plainBest) * (1 << 30) / bytes));
            into.results.put("encrypted_restore_cli_vs_plain", Measurements.round(plainCliBest / sealedCliBest, 3));
            into.results.put("encrypted_restore_cli_added_ms", Math.round(sealedCliBest - plainCliBest));
            into.notes.put("encrypted_restore_ratio", "restore of a " + (bytes >> 20) + " MiB database from an"
                    + " encrypted storage vs `cp` + `sync`, best of " + rounds + " (encrypted_run_restore_ratio: the same"
                    + " unencrypted, in turn in the same run)");
            into.notes.put("encrypted_restore_vs_plain", "unencrypted ÷ encrypted restore time in one JVM, best of "
                    + rounds + " each, in turn; target >= 0.95 (encrypted_restore_vs_plain_median: the median of the "
                    + rounds + " paired ratios)");
            into.notes.put("encrypted_restore_added_ms_per_gib", "what encryption adds to an in-process restore, ms per"
                    + " GiB of database (best encrypted - best unencrypted)");
            into.notes.put("encrypted_restore_cli_vs_plain", "the same as whole `walship restore` commands, each a fresh"
                    + " JVM: unencrypted ÷ encrypted (--keys-file), best of " + rounds + " each, in turn;"
                    + " encrypted_restore_cli_added_ms the difference in ms");
        } finally {
            BenchDatabase.delete(dir);
        }
    }

    /** Runs this measurement alone and merges its keys into results.json and RESULTS.md. */
    public static void main(String[] args) throws Exception {
        BenchRunner.runAlone(args, EncryptionCost.class, EncryptionCost::measure);
    }
}
