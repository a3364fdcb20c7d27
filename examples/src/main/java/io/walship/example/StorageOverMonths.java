package io.walship.example;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.compaction.CompactionPolicy;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.ObjectKey;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;

/**
 * The README's example of storage over time: a primary storing one segment per transaction
 * compacts them in the background, storage stays small, and a txid from the middle of the
 * history still restores exactly. Intervals are seconds here so that it shows in a demo; the
 * defaults are a compaction run a minute, 1 min grace and 7 days of retention.
 *
 * <pre>java -cp examples/target/walship-examples.jar io.walship.example.StorageOverMonths /tmp/walship-months</pre>
 */
public final class StorageOverMonths {
    private StorageOverMonths() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "walship-months");
        Files.createDirectories(dir);
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        PrimaryOptions options = PrimaryOptions.builder()
                .compaction(CompactionPolicy.defaults()
                        .withRetention(Duration.ofDays(7))     // every txid of the last 7 days restorable
                        .withGrace(Duration.ofSeconds(1)))     // small segments go 1 s after compaction
                .compactionInterval(Duration.ofMillis(500))    // default: a run a minute
                .build();
        long middle;
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), options)) {
            primary.write(conn -> exec(conn, "create table if not exists event(id integer primary key, v text)"))
                    .get();
            long first = primary.txid() + 1;
            for (int i = 0; i < 1000; i++) { // each ack awaited: one segment per transaction
                primary.write(conn -> exec(conn, "insert into event(v) values (hex(randomblob(32)))")).get();
            }
            middle = first + 500;
            System.out.println("primary stored " + (primary.txid() - first + 1) + " transactions, one segment each");
            int objects = objects(storage);
            for (int waited = 0; waited < 100 && (objects = objects(storage)) > 100; waited++) {
                Thread.sleep(100); // background compaction, then deletion after the grace period
            }
            LogCatalog catalog = LogCatalog.list(storage);
            System.out.println("after background compaction storage holds " + objects + " objects: "
                    + catalog.snapshots().size() + " snapshots, " + catalog.level(0).size() + " segments, "
                    + (catalog.log().size() - catalog.level(0).size()) + " compacted");
        }
        Path restored = dir.resolve("at-" + middle + ".db");
        Files.deleteIfExists(restored);
        RestoreResult result = Restore.run(storage, restored, RestoreTarget.txid(middle));
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + restored);
             Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("select count(*) from event")) {
            rs.next();
            System.out.println("restored txid " + result.txid() + " from " + result.segmentsApplied()
                    + " log objects: " + rs.getLong(1) + " rows, as the primary had then");
        }
        Files.delete(restored);
        System.out.println("try: bin/walship ls " + dir.resolve("storage"));
    }

    private static int objects(Storage storage) {
        return storage.list(ObjectKey.SNAPSHOT_PREFIX).size() + storage.list(ObjectKey.LOG_PREFIX).size();
    }

    private static void exec(Connection conn, String sql) throws java.sql.SQLException {
        try (Statement s = conn.createStatement()) {
            s.execute(sql);
        }
    }
}
