package io.walship.example;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The README's large-transaction example: a bulk load of MIB MiB in one transaction and a VACUUM
 * of the result, on whatever heap the JVM is given, then a restore compared with the primary's
 * file byte for byte. Run it on a small heap with a scratch directory:
 *
 * <pre>java -Xmx64m -cp examples/target/walship-examples.jar io.walship.example.BulkLoad /tmp/walship-bulk 512</pre>
 */
public final class BulkLoad {
    private BulkLoad() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "walship-bulk");
        int mib = args.length > 1 ? Integer.parseInt(args[1]) : 512;
        Files.createDirectories(dir);
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        Path db = dir.resolve("app.db");
        long rows = ((long) mib << 20) / 16384;
        try (Primary primary = Primary.open(storage, db, PrimaryOptions.durable())) {
            long loaded = primary.write(conn -> {
                exec(conn, "create table if not exists doc(id integer primary key, body blob)");
                exec(conn, "with recursive c(i) as (select 1 union all select i + 1 from c where i < " + rows
                        + ") insert into doc(body) select randomblob(16384) from c");
            }).get();
            System.out.println("bulk load of " + mib + " MiB stored as txid " + loaded);
            primary.write(conn -> exec(conn, "delete from doc where id % 2 = 0")).get();
            long vacuumed = primary.write(conn -> {
                conn.setAutoCommit(true); // VACUUM cannot run inside a transaction
                exec(conn, "VACUUM");
            }).get();
            System.out.println("VACUUM stored as txid " + vacuumed + ", heap max "
                    + Runtime.getRuntime().maxMemory() / 1048576 + " MiB");
            primary.checkpoint();
            RestoreResult restored = Restore.run(storage, dir.resolve("restored-" + vacuumed + ".db"),
                    RestoreTarget.latest());
            boolean same = Files.mismatch(restored.path(), db) == -1;
            System.out.println("restored txid " + restored.txid() + ", " + Files.size(restored.path()) / 1048576
                    + " MiB, " + (same ? "byte-identical to the primary's file" : "DIFFERENT from the primary's file"));
        }
    }

    private static void exec(Connection conn, String sql) throws SQLException {
        try (Statement s = conn.createStatement()) {
            s.execute(sql);
        }
    }
}
