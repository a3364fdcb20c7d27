package io.walship.example;

import io.walship.Ack;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.replica.Replica;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;

/**
 * The README's runnable example: a primary ships a database to a directory, a replica follows
 * it and reads its own writes. Run it with a scratch directory:
 *
 * <pre>java -cp examples/target/walship-examples.jar io.walship.example.QuickStart /tmp/walship-demo</pre>
 */
public final class QuickStart {
    private QuickStart() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "walship-demo");
        Files.createDirectories(dir);
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));

        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), PrimaryOptions.durable());
             Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            replica.follow();

            primary.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.execute("create table if not exists greeting(id integer primary key, text text)");
                }
            });
            Ack<Void> ack = primary.write(conn -> {
                try (PreparedStatement ps = conn.prepareStatement("insert into greeting(text) values (?)")) {
                    ps.setString(1, "hello from txid " + (primary.txid() + 1));
                    ps.executeUpdate();
                }
            });
            long txid = ack.get(); // stored durably
            System.out.println("primary committed and stored txid " + txid);

            replica.awaitTxid(txid, Duration.ofSeconds(10)); // read-your-writes
            String latest = replica.read(conn -> {
                try (Statement s = conn.createStatement();
                     ResultSet rs = s.executeQuery("select count(*), max(text) from greeting")) {
                    rs.next();
                    return rs.getLong(1) + " rows, latest: " + rs.getString(2);
                }
            });
            System.out.println("replica at txid " + replica.txid() + " reads " + latest);
        }
        System.out.println("storage is in " + dir.resolve("storage")
                + "; try: bin/walship ls " + dir.resolve("storage"));
    }
}
