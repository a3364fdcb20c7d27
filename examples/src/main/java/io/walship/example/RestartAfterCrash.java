package io.walship.example;

import io.walship.Durability;
import io.walship.OpenOutcome;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;

/**
 * The README's restart example: a child process commits rows in ASYNC mode and is killed with
 * SIGKILL before it uploads any of them; the primary is then opened again on the same file,
 * keeps every row and ships them. Run it with a scratch directory:
 *
 * <pre>java -cp examples/target/walship-examples.jar io.walship.example.RestartAfterCrash /tmp/walship-crash</pre>
 */
public final class RestartAfterCrash {
    private static final int ROWS = 1000;

    private RestartAfterCrash() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 1 && args[1].equals("--child")) {
            commitAndWaitForTheKill(Path.of(args[0]));
            return;
        }
        Path dir = Path.of(args.length > 0 ? args[0] : "walship-crash");
        Files.createDirectories(dir);
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), RestartAfterCrash.class.getName(), dir.toString(),
                "--child").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            System.out.println(out.readLine());
            child.toHandle().destroyForcibly(); // SIGKILL: no close, no upload, no checkpoint
            child.waitFor();
            System.out.println("child killed with SIGKILL");
        }

        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), PrimaryOptions.durable())) {
            OpenOutcome outcome = primary.openOutcome();
            System.out.println("reopened: " + outcome.kind() + ", " + outcome.unshippedTransactions()
                    + " committed transactions storage lacked are being shipped, file read: " + outcome.fileRead()
                    + ", " + outcome.millis() + " ms");
            long stored = primary.flush().get();
            long rows = primary.read(conn -> {
                try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("select count(*) from event")) {
                    rs.next();
                    return rs.getLong(1);
                }
            });
            System.out.println("stored up to txid " + stored + ", " + rows + " rows in the table");
        }
    }

    /** The child: commits ROWS rows without uploading them (ASYNC, an hour's flush interval). */
    private static void commitAndWaitForTheKill(Path dir) throws Exception {
        PrimaryOptions async = PrimaryOptions.builder().durability(Durability.ASYNC).flushInterval(Duration.ofHours(1))
                .build();
        Primary primary = Primary.open(FileSystemStorage.open(dir.resolve("storage")), dir.resolve("app.db"), async);
        primary.write(conn -> {
            try (Statement s = conn.createStatement()) {
                s.execute("create table if not exists event(id integer primary key, what text)");
            }
        });
        for (int i = 0; i < ROWS; i++) {
            primary.write(conn -> {
                try (PreparedStatement ps = conn.prepareStatement("insert into event(what) values ('clicked')")) {
                    ps.executeUpdate();
                }
            });
        }
        System.out.println("child committed " + ROWS + " rows up to txid " + primary.txid() + ", stored up to txid "
                + primary.storedTxid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
