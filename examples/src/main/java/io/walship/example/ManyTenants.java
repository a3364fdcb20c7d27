package io.walship.example;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.Walship;
import io.walship.replica.Replica;
import io.walship.replica.ReplicaOptions;
import io.walship.storage.fs.FileSystemStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Many databases in one JVM: one primary and one replica per tenant, all on one runtime's
 * threads, each stored under its own prefix of one storage root. Run it with a scratch directory
 * and a tenant count:
 *
 * <pre>java -cp examples/target/walship-examples.jar io.walship.example.ManyTenants /tmp/tenants 500</pre>
 */
public final class ManyTenants {
    private ManyTenants() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "tenants-demo");
        int tenants = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        Files.createDirectories(dir.resolve("data"));
        Files.createDirectories(dir.resolve("replicas"));
        try (FileSystemStorage root = FileSystemStorage.open(dir.resolve("storage"));
             Walship walship = Walship.open(root)) {
            List<Primary> primaries = new ArrayList<>();
            List<Replica> replicas = new ArrayList<>();
            for (int i = 0; i < tenants; i++) {
                String name = "tenant-" + i;
                Primary primary = walship.openPrimary(name, dir.resolve("data/" + name + ".db"),
                        PrimaryOptions.durable());
                primary.write(conn -> {
                    try (Statement s = conn.createStatement()) {
                        s.execute("create table if not exists visits(at integer)");
                    }
                });
                primaries.add(primary);
                Replica replica = Replica.open(walship, name, dir.resolve("replicas/" + name + ".db"),
                        ReplicaOptions.defaults());
                replica.follow();
                replicas.add(replica);
            }
            long last = 0;
            for (Primary primary : primaries) {
                last = primary.write(conn -> {
                    try (Statement s = conn.createStatement()) {
                        s.execute("insert into visits values (unixepoch())");
                    }
                }).get();
            }
            Replica lastReplica = replicas.get(tenants - 1);
            lastReplica.awaitTxid(last, Duration.ofSeconds(30));
            long visits = lastReplica.read(conn -> {
                try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("select count(*) from visits")) {
                    rs.next();
                    return rs.getLong(1);
                }
            });
            System.out.println(tenants + " primaries and " + tenants + " replicas open on "
                    + walship.threads() + " runtime threads; the last replica counts " + visits + " visit(s)");
            System.out.println("one tenant's history: walship ls file://" + dir.resolve("storage/tenant-0").toAbsolutePath());
        }
    }
}
