package io.walship.bench;

import io.micrometer.core.instrument.MeterRegistry;
import io.walship.CaptureMode;
import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;
import org.sqlite.SQLiteConfig;

/**
 * The databases the benchmarks write: the same schema and rows for plain SQLite and for
 * walship, so their figures can be divided. Rows mix text, integers and an index, like an
 * application table.
 */
final class BenchDatabase {
    static final String SCHEMA = "create table if not exists item(id integer primary key, k int, name text,"
            + " note text, qty int)";
    static final String INDEX = "create index if not exists item_k on item(k)";
    static final String INSERT = "insert into item(k, name, note, qty) values (?, ?, ?, ?)";
    /** Changes an indexed column of an existing row. */
    static final String UPDATE = "update item set qty = qty + 1, k = ?, note = ? where id = ?";

    private BenchDatabase() {
    }

    static Path tempDir(String name) {
        try {
            return Files.createTempDirectory("walship-bench-" + name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A plain sqlite-jdbc connection in WAL mode with the given synchronous setting. */
    static Connection plain(Path db, SQLiteConfig.SynchronousMode synchronous) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(synchronous);
        Connection conn = config.createConnection("jdbc:sqlite:" + db);
        createSchema(conn);
        return conn;
    }

    static Primary primary(Path dir, Durability durability) {
        return primary(dir, durability, (MeterRegistry) null);
    }

    /** As {@link #primary(Path, Durability)}, recording its meters into {@code registry} (null: none). */
    static Primary primary(Path dir, Durability durability, MeterRegistry registry) {
        return open(dir, PrimaryOptions.builder().durability(durability).meterRegistry(registry));
    }

    /** As {@link #primary(Path, Durability)}, encrypting what it stores. */
    static Primary primary(Path dir, Durability durability, io.walship.encryption.Encryption encryption) {
        return open(dir, PrimaryOptions.builder().durability(durability).encryption(encryption));
    }

    /** As {@link #primary(Path, Durability)}, capturing commits in {@code mode}. */
    static Primary primary(Path dir, Durability durability, CaptureMode mode) {
        return open(dir, PrimaryOptions.builder().durability(durability).captureMode(mode));
    }

    private static Primary open(Path dir, PrimaryOptions.Builder options) {
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        return Primary.open(storage, dir.resolve("primary.db"), options.snapshotAfterLogBytes(0).build());
    }

    static void createSchema(Connection conn) throws SQLException {
        try (Statement s = conn.createStatement()) {
            s.execute(SCHEMA);
            s.execute(INDEX);
        }
    }

    /** Binds one realistic row to an insert statement. */
    static void bindRow(PreparedStatement insert, Random random) throws SQLException {
        insert.setInt(1, random.nextInt(1_000_000));
        insert.setString(2, "item-" + Long.toString(random.nextLong() & Long.MAX_VALUE, 36));
        insert.setString(3, NOTES[random.nextInt(NOTES.length)] + " #" + random.nextInt(1000));
        insert.setInt(4, random.nextInt(500));
    }

    private static final String[] NOTES = {
        "shipped to warehouse north", "awaiting payment confirmation", "customer asked for gift wrap",
        "backordered until next week", "returned, inspect before restocking", "priority delivery, fragile",
    };

    static long maxId(Connection conn) throws SQLException {
        try (Statement s = conn.createStatement(); var rs = s.executeQuery("select max(id) from item")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Binds an update of a random existing row. */
    static void bindUpdate(PreparedStatement update, Random random, long maxId) throws SQLException {
        update.setInt(1, random.nextInt(1_000_000));
        update.setString(2, "touched " + random.nextInt(1000));
        update.setLong(3, 1 + (long) (random.nextDouble() * maxId));
    }

    /** Fills {@code conn}'s database with rows until it holds about {@code bytes}, in big transactions. */
    static void fill(Connection conn, long bytes, Random random) throws SQLException {
        boolean autoCommit = conn.getAutoCommit();
        conn.setAutoCommit(false);
        try (PreparedStatement insert = conn.prepareStatement(INSERT);
             Statement s = conn.createStatement()) {
            while (true) {
                for (int i = 0; i < 10_000; i++) {
                    bindRow(insert, random);
                    insert.addBatch();
                }
                insert.executeBatch();
                conn.commit();
                try (var rs = s.executeQuery("select page_count * page_size from pragma_page_count, pragma_page_size")) {
                    rs.next();
                    if (rs.getLong(1) >= bytes) {
                        break;
                    }
                }
            }
        } finally {
            conn.setAutoCommit(autoCommit);
        }
    }
}
